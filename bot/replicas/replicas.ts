/**
 * What lets several 小安 processes share one PostgreSQL (DATABASE_URL): the bus between them,
 * the leadership of background work, the per-conversation locks, and "once" for work that one
 * replica must do for all. On embedded PGlite there is one process: no bus, always the
 * leader, in-process ordering only.
 */
import { createHash } from 'node:crypto';
import type { Config } from '../config.ts';
import type { Logger } from '../log.ts';
import type { Database, Queryable } from '../store/database.ts';
import type { Bus } from './bus.ts';
import { ControlConnection } from './control-connection.ts';
import { inProcessOnly, postgresLocks, type SerialLocks } from './conversation-locks.ts';
import { Leadership, soleProcess, type Leader } from './leadership.ts';
import { PostgresBus } from './postgres-bus.ts';

/** Lock connections per replica (a turn waits at most DATABASE_STATEMENT_TIMEOUT_MS for its lock). */
const LOCK_CONNECTIONS = 10;

export interface Replicas {
  /** Null when this process is alone on its data. */
  bus: Bus | null;
  leader: Leader;
  locks: SerialLocks;
  close(): Promise<void>;
}

export async function openReplicas(config: Pick<Config, 'databaseUrl' | 'databaseConnectTimeoutMs' | 'databaseStatementTimeoutMs'>, db: Database, log: Logger): Promise<Replicas> {
  if (!config.databaseUrl) return { bus: null, leader: soleProcess, locks: inProcessOnly, close: async () => {} };
  // Replicas of one deployment work in one schema; another deployment on the same server has its own.
  const { rows } = await db.query<{ scope: string }>('SELECT current_database() || \'.\' || current_schema() AS scope');
  const scope = rows[0]!.scope;
  const control = new ControlConnection(config.databaseUrl, log.child({ component: 'replicas' }), {
    connectMs: config.databaseConnectTimeoutMs,
    queryMs: config.databaseStatementTimeoutMs,
  });
  const bus = new PostgresBus(control, db, log.child({ component: 'bus' }), `xiaoan_bus_${createHash('sha256').update(scope).digest('hex').slice(0, 20)}`);
  const leader = new Leadership(control, log.child({ component: 'replicas' }), scope);
  await control.open();
  await leader.start();
  const locks = postgresLocks(config.databaseUrl, scope, { max: LOCK_CONNECTIONS, connectMs: config.databaseConnectTimeoutMs, statementMs: config.databaseStatementTimeoutMs });
  return {
    bus,
    leader,
    locks,
    close: async () => {
      await leader.close();
      await bus.close();
      await control.close();
      await locks.close();
    },
  };
}

/**
 * True for the first caller with this key, in any replica, ever after: the work of an event
 * every replica sees (a release that came into force) is done by one of them.
 */
export async function once(db: Queryable, key: string): Promise<boolean> {
  const { rows } = await db.query('INSERT INTO replica_once (key) VALUES ($1) ON CONFLICT DO NOTHING RETURNING key', [key]);
  return rows.length > 0;
}
