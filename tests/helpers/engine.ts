/**
 * The real engine (createDialogEngine: the built-in desk, or an external platform when
 * CASE_PLATFORM_URL is given) on one of the test stores, with chats that can be open or
 * closed, a citizen who types and taps, and a way to let their context expire.
 */
import { afterAll, beforeAll } from 'vitest';
import { loadConfig, type Config } from '../../bot/config.ts';
import { createDialogEngine, type DialogEngine } from '../../bot/engine.ts';
import type { Reply, TurnResult } from '../../bot/messages.ts';
import type { Database } from '../../bot/store/database.ts';
import { openKnowledgeBase } from '../../knowledge-base/knowledge-base.ts';
import type { TestStore } from './databases.ts';
import { removeDir, tempDir } from './kb.ts';

export const TTL_MINUTES = 30;

export interface Harness {
  db: Database;
  engine: DialogEngine;
  config: Config;
  /** Citizens whose chat is open (pushes reach them); everyone else's is closed. */
  openChats: Set<string>;
  /** What was pushed to open chats, per citizen. */
  pushed: Map<string, Reply[][]>;
  /** Another engine on the same store: a second process. */
  secondEngine(): DialogEngine;
}

export function useEngine(store: TestStore, env: Record<string, string> = {}): Harness {
  const h = { openChats: new Set<string>(), pushed: new Map<string, Reply[][]>() } as Harness;
  let cleanup: () => Promise<void> = async () => {};
  let dir = '';
  beforeAll(async () => {
    dir = tempDir();
    h.config = loadConfig({ DATA_DIR: dir, LOG_LEVEL: 'silent', CONTEXT_TTL_MINUTES: String(TTL_MINUTES), ...env });
    const kb = await openKnowledgeBase(h.config);
    ({ db: h.db, cleanup } = await store.open());
    const deliver = (_channel: string, userId: string, replies: Reply[]) => {
      if (!h.openChats.has(userId)) return 0;
      h.pushed.set(userId, [...(h.pushed.get(userId) ?? []), replies]);
      return 1;
    };
    h.engine = createDialogEngine(h.config, kb, h.db, deliver);
    h.secondEngine = () => createDialogEngine(h.config, kb, h.db, deliver);
  });
  afterAll(async () => {
    await h.engine?.drain();
    await cleanup();
    removeDir(dir);
  });
  return h;
}

export const textOf = (r: TurnResult): string =>
  r.replies.map((x) => (x.type === 'text' ? x.text : x.type === 'menu' ? `${x.head}\n${x.items.map((i) => i.label).join('\n')}` : x.type === 'link' ? x.title : `${x.title}\n${x.body}`)).join('\n');

export function citizen(engine: () => DialogEngine, userId: string) {
  const say = (text: string) => engine().handle({ channel: 'web', userId, kind: 'text', text });
  const tap = (menuId: string) => engine().handle({ channel: 'web', userId, kind: 'menu', menuId });
  /** From a complaint that names its type and describes it, up to the summary to confirm. */
  const draft = async (complaint: string): Promise<TurnResult> => {
    await say(complaint);
    await tap('case:skip'); // place
    await say('13812345678');
    await tap('case:skip'); // name
    return tap('case:consent:yes');
  };
  return { say, tap, draft, userId };
}

/** Moves the citizen's last activity back, as if they had been silent that long. */
export async function silence(db: Database, userId: string, minutes: number): Promise<void> {
  await db.query(
    `UPDATE conversations SET state = jsonb_set(state, '{lastAt}', to_jsonb($3::text)), updated_at = $3::timestamptz
     WHERE channel = 'web' AND user_id = $1 AND state ? $2`,
    [userId, 'lastAt', new Date(Date.now() - minutes * 60_000).toISOString()],
  );
}

export const caseNumber = (r: TurnResult): string | undefined => /编号 (XA\d+|EXT-\d+)/.exec(textOf(r))?.[1];
