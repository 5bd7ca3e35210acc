/** Runs the multi-turn dialog scripts in scripts.yaml against the real engine and store. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../bot/config.ts';
import { DialogEngine } from '../../../bot/engine.ts';
import type { Inbound, Reply, TurnResult } from '../../../bot/messages.ts';
import { openDatabase, type Database } from '../../../bot/store/database.ts';
import { releaseConversation } from '../../../bot/store/conversations.ts';
import { openKnowledgeBase, type KnowledgeBase } from '../../../knowledge-base/knowledge-base.ts';
import { loadOffices } from '../../../knowledge-base/offices.ts';
import { CaseService } from '../../../bot/cases/service.ts';
import { CaseDesk } from '../../../integrations/case-platform/desk/desk.ts';
import { loadRouting } from '../../../integrations/case-platform/desk/router.ts';
import { deskPlatform } from '../../../integrations/case-platform/platform.ts';
import { removeDir, tempDir } from '../../helpers/kb.ts';

interface Step {
  say?: string;
  menu?: string;
  menuHas?: string[];
  pick?: string;
  kind?: 'image' | 'voice' | 'file';
  location?: { lat: number; lng: number };
  wait?: number;
  release?: boolean;
  intent?: string;
  item?: string;
  notItem?: string;
  aspect?: string;
  state?: string;
  handedOver?: boolean;
  says?: string[];
  /** Words the replies must not contain. */
  saysNot?: string[];
  notSays?: string[];
  first?: string;
  silent?: boolean;
}
interface Script {
  name: string;
  handoffMode?: 'none' | 'queue';
  steps: Step[];
}

const caseRouter = loadRouting();
const scripts = parse(readFileSync(path.join(path.dirname(fileURLToPath(import.meta.url)), 'scripts.yaml'), 'utf8')) as Script[];
const allText = (replies: Reply[]) =>
  replies.map((r) => (r.type === 'text' ? r.text : r.type === 'menu' ? `${r.head}\n${r.items.map((i) => i.label).join('\n')}` : r.type === 'link' ? r.title : `${r.title}\n${r.body}`)).join('\n');

describe('dialog scripts', () => {
  const config = loadConfig({});
  let dataDir = '';
  let kb: KnowledgeBase;
  let db: Database;
  beforeAll(async () => {
    dataDir = tempDir();
    kb = await openKnowledgeBase({ ...config, dataDir });
    db = await openDatabase({ dataDir });
  });
  afterAll(async () => {
    await db.close();
    removeDir(dataDir);
  });

  scripts.forEach((script, n) => {
    it(script.name, async () => {
      let clock = Date.parse('2026-11-23T09:00:00Z');
      const engine = new DialogEngine({
        kb,
        db,
        offices: loadOffices(config.officesPath),
        handoffMode: script.handoffMode ?? 'none',
        serviceHours: '工作日 9:00–17:00',
        contextTtlMinutes: 30,
        cases: new CaseService(db, deskPlatform(new CaseDesk(db, caseRouter))),
        caseRouter,
        now: () => new Date(clock),
      });
      const userId = `script-${n}`;
      let last: TurnResult | null = null;
      for (const [i, step] of script.steps.entries()) {
        const where = `${script.name}, step ${i + 1}`;
        if (step.wait !== undefined) {
          clock += step.wait * 60_000;
          continue;
        }
        if (step.release) {
          expect(await releaseConversation(db, 'web', userId), where).toBe(true);
          continue;
        }
        clock += 5_000;
        const base = { channel: 'web', userId };
        let inbound: Inbound;
        if (step.say !== undefined) inbound = { ...base, kind: 'text', text: step.say };
        else if (step.menu) inbound = { ...base, kind: 'menu', menuId: step.menu };
        else if (step.pick) {
          const menus = last!.replies.filter((r) => r.type === 'menu');
          const item = menus.flatMap((m) => (m.type === 'menu' ? m.items : [])).find((x) => x.label === step.pick);
          expect(item, `${where}: no menu item "${step.pick}"`).toBeDefined();
          inbound = { ...base, kind: 'menu', menuId: item!.id };
        } else if (step.kind) inbound = { ...base, kind: step.kind };
        else if (step.location) inbound = { ...base, kind: 'location', location: step.location };
        else throw new Error(`${where}: nothing to send`);

        const r = await engine.handle(inbound);
        last = r;
        const text = allText(r.replies);
        if (step.intent) expect(r.intent, `${where}: intent (${text})`).toBe(step.intent);
        if (step.item) expect(r.item?.id, `${where}: item (${text.slice(0, 200)})`).toBe(step.item);
        if (step.notItem) expect(r.item?.id, where).not.toBe(step.notItem);
        if (step.aspect) expect(r.aspect, where).toBe(step.aspect);
        if (step.state) expect(r.conversation.state, where).toBe(step.state);
        if (step.handedOver !== undefined) expect(r.conversation.handedOver, where).toBe(step.handedOver);
        for (const s of step.says ?? []) expect(text, where).toContain(s);
        for (const s of step.saysNot ?? []) expect(text, where).not.toContain(s);
        for (const s of step.notSays ?? []) expect(text, where).not.toContain(s);
        if (step.first) expect(r.replies[0]?.type, where).toBe(step.first);
        if (step.silent) expect(r.replies, where).toEqual([]);
        if (step.menuHas) {
          const lastMenu = [...r.replies].reverse().find((x) => x.type === 'menu');
          expect(lastMenu, `${where}: a menu`).toBeDefined();
          const labels = lastMenu!.type === 'menu' ? lastMenu!.items.map((x) => x.label) : [];
          for (const l of step.menuHas) expect(labels, where).toContain(l);
        }
      }
    });
  });
});
