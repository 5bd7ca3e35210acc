/**
 * Proactive messages to citizens with an open chat (a satisfaction survey, a case update):
 * channels subscribe per citizen; publishers do not care how the message travels.
 */
import type { Reply } from './messages.ts';

type Listener = (replies: Reply[]) => void;

export class PushHub {
  private readonly listeners = new Map<string, Set<Listener>>();

  subscribe(channel: string, userId: string, listener: Listener): () => void {
    const key = `${channel}\u0000${userId}`;
    let set = this.listeners.get(key);
    if (!set) this.listeners.set(key, (set = new Set()));
    set.add(listener);
    return () => {
      set!.delete(listener);
      if (!set!.size) this.listeners.delete(key);
    };
  }

  /** How many open connections the citizen has. */
  connections(channel: string, userId: string): number {
    return this.listeners.get(`${channel}\u0000${userId}`)?.size ?? 0;
  }

  /** Delivers to every open connection of the citizen; returns how many received it. */
  publish(channel: string, userId: string, replies: Reply[]): number {
    const set = this.listeners.get(`${channel}\u0000${userId}`);
    for (const l of set ?? []) l(replies);
    return set?.size ?? 0;
  }
}
