/**
 * The one place that tells "the database cannot be reached right now" from every other
 * database error. Such a request is answered 503 with Retry-After (bot/server/app.ts);
 * a constraint violation or a bad query stays a 500, since waiting will not fix it.
 */

/** Socket errors of a connection that cannot be made or was lost. */
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ECONNABORTED', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);

/** SQLSTATEs of a server that is going away, not yet accepting, or gave up on a statement. */
const SQLSTATES = new Set([
  '57P01', // admin_shutdown: the server is stopping
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now: starting up or in recovery
  '57P05', // idle_session_timeout: the server ended the connection
  '57014', // query_canceled: statement_timeout (DATABASE_STATEMENT_TIMEOUT_MS) expired
  '53300', // too_many_connections
]);

/**
 * What node-postgres says, with no code, when a connection times out or dies: the pool's
 * wait for a connection, a connect that timed out, the client-side query timeout, a
 * socket that closed under a query, or a client that already lost its connection.
 */
const PG_MESSAGES = /^(timeout exceeded when trying to connect|Connection terminated|timeout expired$|Query read timeout|Client has encountered a connection error)/;

/** True when err (or its cause, or one of an AggregateError's errors) says the database is unreachable. */
export function isDatabaseUnavailable(err: unknown): boolean {
  const seen = new Set<unknown>();
  const look = (e: unknown): boolean => {
    if (!e || typeof e !== 'object' || seen.has(e) || seen.size > 10) return false;
    seen.add(e);
    const { code, message, cause, errors } = e as { code?: unknown; message?: unknown; cause?: unknown; errors?: unknown };
    if (typeof code === 'string') {
      if (NETWORK_CODES.has(code) || SQLSTATES.has(code)) return true;
      // Class 08: connection exceptions (08000, 08003, 08006, 08001 …).
      if (/^08[0-9A-Z]{3}$/.test(code)) return true;
    }
    if (typeof message === 'string' && PG_MESSAGES.test(message)) return true;
    return look(cause) || (Array.isArray(errors) && errors.some(look));
  };
  return look(err);
}
