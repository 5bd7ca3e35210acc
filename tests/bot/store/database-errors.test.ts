import { describe, expect, it } from 'vitest';
import { DATABASE_TIMEOUT_DEFAULTS, loadConfig } from '../../../bot/config.ts';
import { isDatabaseUnavailable } from '../../../bot/store/database-errors.ts';

const coded = (code: string, message = 'x') => Object.assign(new Error(message), { code });

describe('isDatabaseUnavailable', () => {
  it('knows a refused, lost, stalled or stopping database', () => {
    for (const e of [
      coded('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:5432'),
      coded('ECONNRESET', 'read ECONNRESET'),
      coded('ETIMEDOUT'),
      coded('57P01', 'terminating connection due to administrator command'),
      coded('57P03', 'the database system is starting up'),
      coded('57014', 'canceling statement due to statement timeout'),
      coded('08006', 'connection failure'),
      coded('08001'),
      new Error('timeout exceeded when trying to connect'),
      new Error('Connection terminated due to connection timeout'),
      new Error('Connection terminated unexpectedly'),
      new Error('Query read timeout'),
      new Error('Client has encountered a connection error and is not queryable'),
      // Node's happy-eyeballs connect reports every address it tried.
      new AggregateError([coded('ECONNREFUSED'), coded('ECONNREFUSED')], ''),
      new Error('turn failed', { cause: coded('57P01') }),
    ]) {
      expect(isDatabaseUnavailable(e), String((e as Error).message || (e as { code?: string }).code)).toBe(true);
    }
  });

  it('leaves every other error a fault', () => {
    for (const e of [
      coded('23505', 'duplicate key value violates unique constraint'),
      coded('42P01', 'relation "nope" does not exist'),
      coded('22P02', 'invalid input syntax'),
      coded('ENOENT'),
      new Error('something broke'),
      new Error('it timed out: timeout expired while waiting for the platform'),
      'ECONNREFUSED',
      null,
      undefined,
    ]) {
      expect(isDatabaseUnavailable(e)).toBe(false);
    }
    const loop: Error & { cause?: unknown } = new Error('loop');
    loop.cause = loop;
    expect(isDatabaseUnavailable(loop)).toBe(false);
  });
});

describe('database timeout settings', () => {
  it('default to a few seconds and are read from the environment', () => {
    expect(loadConfig({})).toMatchObject({ databaseStatementTimeoutMs: 5_000, databaseConnectTimeoutMs: 3_000 });
    expect(DATABASE_TIMEOUT_DEFAULTS).toEqual({ statementMs: 5_000, connectMs: 3_000 });
    expect(loadConfig({ DATABASE_STATEMENT_TIMEOUT_MS: '2500', DATABASE_CONNECT_TIMEOUT_MS: '800' })).toMatchObject({
      databaseStatementTimeoutMs: 2_500,
      databaseConnectTimeoutMs: 800,
    });
  });

  it('refuse values that are not a sane number of milliseconds, naming the variable', () => {
    for (const [name, value] of [
      ['DATABASE_STATEMENT_TIMEOUT_MS', 'soon'],
      ['DATABASE_STATEMENT_TIMEOUT_MS', '0'],
      ['DATABASE_STATEMENT_TIMEOUT_MS', '1.5'],
      ['DATABASE_CONNECT_TIMEOUT_MS', '-1'],
      ['DATABASE_CONNECT_TIMEOUT_MS', '9999999'],
    ] as const) {
      expect(() => loadConfig({ [name]: value }), `${name}=${value}`).toThrow(name);
    }
  });
});
