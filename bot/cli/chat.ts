/** `xiaoan chat`: talk to 小安 in the terminal. Menus are shown as numbered lines. */
import os from 'node:os';
import { createInterface } from 'node:readline/promises';
import type { Config } from '../config.ts';
import { createDialogEngine } from '../engine.ts';
import type { Reply } from '../messages.ts';
import { openDatabase } from '../store/database.ts';
import { openKnowledgeBase } from '../../knowledge-base/knowledge-base.ts';

export function renderForTerminal(replies: Reply[]): string {
  return replies
    .map((r) => {
      if (r.type === 'text') return r.text;
      if (r.type === 'menu') return [r.head, ...r.items.map((it, i) => `  ${i + 1}. ${it.label}`), r.tail ?? '（回复序号选择）'].join('\n');
      if (r.type === 'link') return `${r.title}：${r.url}`;
      return `${r.title}\n${r.body}`;
    })
    .join('\n\n');
}

export async function runChat(config: Config): Promise<void> {
  const kb = await openKnowledgeBase(config);
  const db = await openDatabase(config);
  const engine = createDialogEngine(config, kb, db);
  const userId = `cli-${os.userInfo().username}`;
  const rl = createInterface({ input: process.stdin, output: process.stdout, terminal: process.stdin.isTTY });
  const say = async (text: string | null) => {
    const r = await engine.handle(text === null ? { channel: 'cli', userId, kind: 'event', event: 'open' } : { channel: 'cli', userId, kind: 'text', text });
    console.log(`\n小安：${renderForTerminal(r.replies) || '（人工客服接待中）'}\n`);
  };
  // Listening before the greeting: lines piped in while it is answered are kept, not dropped.
  const lines = rl[Symbol.asyncIterator]();
  try {
    console.log('小安终端对话。输入问题后回车；输入“退出”或按 Ctrl+D 结束。');
    await say(null);
    for await (const line of { [Symbol.asyncIterator]: () => lines }) {
      const text = line.trim();
      if (!text) continue;
      if (/^(退出|exit|quit)$/i.test(text)) break;
      try {
        await say(text);
      } catch (e) {
        console.log(`（出错了：${(e as Error).message}）`);
      }
    }
  } finally {
    rl.close();
    await engine.drain();
    await db.close();
  }
}
