/**
 * Background work (the outbox, survey reminders, draft purges, retention, hand-over expiry,
 * the WeCom timer pull) runs in one replica at a time: the one holding a session advisory
 * lock on its control connection. When that process dies or loses its connection, the server
 * frees the lock and another replica takes it at its next try, within a few seconds.
 * One process on its own (embedded PGlite) is always the leader.
 */
import type { Logger } from '../log.ts';
import type { ControlConnection } from './control-connection.ts';
import { lockKey } from './conversation-locks.ts';

export const LEADER_CHECK_MS = 2_000;

export interface Leader {
  isLeader(): boolean;
  /** Told each time this process becomes or stops being the leader. */
  onChange(fn: (leader: boolean) => void): void;
  close(): Promise<void>;
}

/** The only process on its data: always the leader. */
export const soleProcess: Leader = {
  isLeader: () => true,
  onChange: () => {},
  close: async () => {},
};

export class Leadership implements Leader {
  private leader = false;
  private timer: NodeJS.Timeout | null = null;
  private trying: Promise<void> | null = null;
  private readonly listeners = new Set<(leader: boolean) => void>();

  constructor(
    private readonly control: ControlConnection,
    private readonly log: Pick<Logger, 'info' | 'error'>,
    /** Replicas of one deployment share it (the schema they work in): another deployment's leader is not ours. */
    private readonly scope: string,
    private readonly checkMs = LEADER_CHECK_MS,
  ) {
    control.onLost(() => this.set(false));
    control.onConnected(() => void this.attempt());
  }

  start(): Promise<void> {
    this.timer = setInterval(() => void this.attempt(), this.checkMs);
    this.timer.unref();
    return this.attempt();
  }

  isLeader(): boolean {
    return this.leader;
  }

  onChange(fn: (leader: boolean) => void): void {
    this.listeners.add(fn);
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.trying;
    // Closing the control connection frees the lock; nothing to release by hand.
    this.set(false);
  }

  /** The leader checks that its connection still answers; the others try to take the lock. */
  private attempt(): Promise<void> {
    this.trying ??= (async () => {
      try {
        if (!this.control.up) return;
        if (this.leader) {
          await this.control.query('SELECT 1');
          return;
        }
        // Re-entrant on one session, so it is asked only while not held.
        const [row] = await this.control.query<{ got: boolean }>('SELECT pg_try_advisory_lock($1::bigint) AS got', [lockKey(`xiaoan-leader:${this.scope}`)]);
        if (row?.got) this.set(true);
      } catch (e) {
        this.log.error({ err: e }, 'leadership check failed');
        // A leader not sure the server still holds its lock lets go at once (another may take
        // it) and comes back on a fresh connection; a follower just tries again next time (a
        // busy event loop can make a query time out on a healthy connection).
        if (this.leader) this.control.reset(e as Error);
      } finally {
        this.trying = null;
      }
    })();
    return this.trying;
  }

  private set(leader: boolean): void {
    if (leader === this.leader) return;
    this.leader = leader;
    this.log.info({ leader }, leader ? '本进程负责后台任务 (background work runs here)' : '本进程不再负责后台任务 (background work moved)');
    for (const fn of this.listeners) fn(leader);
  }
}
