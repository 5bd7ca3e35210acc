/**
 * Every HTTP request gets a request id — the caller's x-request-id when it is a sane one (a
 * proxy's, to follow one request across logs), else a new one — echoed in the response. When
 * the response is done it is logged once and counted in xiaoan_http_requests_total by route
 * pattern: never the raw path, which would make one series per case id. A small middleware
 * rather than pino-http: that logs headers (cookies, tokens) unless told not to.
 */
import { randomUUID } from 'node:crypto';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { Logger } from '../log.ts';
import { httpRequests } from '../metrics.ts';

const SANE_ID = /^[\w.-]{1,64}$/;
/** Probes and scrapes that succeed are logged at debug: a line every few seconds says nothing. */
const PROBES = new Set(['/healthz', '/readyz', '/metrics']);

/** The request id of a response (for error lines). */
export const requestIdOf = (res: Response): string | undefined => res.locals.requestId as string | undefined;

/**
 * The route pattern that answered; a response without a route under 400 came from a static
 * folder, the rest (404, body-parser errors, refused before a route) is "unmatched".
 */
function routeOf(req: Request, status: number): string {
  const path = (req.route as { path?: unknown } | undefined)?.path;
  if (path !== undefined) return `${req.baseUrl}${String(path)}`;
  return status < 400 ? 'static' : 'unmatched';
}

export function requestLog(log: Logger): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    const given = req.get('x-request-id');
    const requestId = given && SANE_ID.test(given) ? given : randomUUID();
    res.locals.requestId = requestId;
    res.set('x-request-id', requestId);
    // Read now: routers rewrite req.url while they run.
    const method = req.method;
    const path = req.path.slice(0, 200);
    const started = performance.now();
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      const status = res.statusCode;
      const route = routeOf(req, status);
      httpRequests.inc({ method, route, status: String(status) });
      const level = status >= 500 ? 'warn' : status < 400 && PROBES.has(path) ? 'debug' : 'info';
      const ms = Math.round((performance.now() - started) * 10) / 10;
      // A response closed before it was all sent: the client went away.
      log[level]({ requestId, method, path, route, status, ms, ...(res.writableFinished ? {} : { aborted: true }) }, 'request');
    };
    res.once('finish', finish);
    res.once('close', finish);
    next();
  };
}
