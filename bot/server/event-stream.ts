/**
 * Server-sent event streams: opened with a heartbeat (so proxies keep them), closed by the
 * client or all at once on shutdown. One place for the web chat's and the console's streams.
 */
import type { Request, Response } from 'express';

const HEARTBEAT_MS = 25_000;

export class EventStreams {
  private readonly open = new Set<Response>();

  /**
   * Starts a stream on res; `subscribe` gets a send function and returns its unsubscribe.
   */
  start(req: Request, res: Response, subscribe: (send: (event: string, data: unknown) => void) => () => void): void {
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', connection: 'keep-alive' });
    res.write(': connected\n\n');
    const unsubscribe = subscribe((event, data) => res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`));
    const heartbeat = setInterval(() => res.write(': ping\n\n'), HEARTBEAT_MS);
    this.open.add(res);
    req.on('close', () => {
      clearInterval(heartbeat);
      unsubscribe();
      this.open.delete(res);
    });
  }

  /** Ends every open stream (on shutdown; browsers reconnect by themselves). */
  closeAll(): void {
    for (const s of this.open) s.end();
  }
}
