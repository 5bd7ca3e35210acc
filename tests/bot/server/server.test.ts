import { describe, expect, it } from 'vitest';
import { startServer } from '../../../bot/server/start.ts';
import { openDatabase } from '../../../bot/store/database.ts';
import { recentQuestions } from '../../../bot/store/question-log.ts';
import { removeDir, testConfig } from '../../helpers/kb.ts';
import { useTestServer } from '../../helpers/server.ts';

describe('HTTP server', () => {
  const t = useTestServer();

  const ask = (body: string) => fetch(`${t.base}/api/ask`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });

  it('reports health and readiness', async () => {
    expect(await (await fetch(`${t.base}/healthz`)).json()).toEqual({ ok: true });
    const ready = await (await fetch(`${t.base}/readyz`)).json();
    expect(ready).toMatchObject({ ready: true, kb: { items: 121 }, outbox: { pending: 0, blocked: 0, invalid: 0, warnings: [] } });
    // A call the platform keeps refusing (a rotated key) is a warning while it is young; the service stays ready.
    await t.server.db.query(
      `INSERT INTO outbox (kind, idempotency_key, payload, status, last_status, blocked_reason, last_error) VALUES ('create_case', 'k-ready', '{}', 'pending', 401, 'case platform answered 401', 'case platform answered 401')`,
    );
    const warned = await (await fetch(`${t.base}/readyz`)).json();
    expect(warned).toMatchObject({ ready: true, outbox: { pending: 1, blocked: 1 } });
    expect(warned.outbox.warnings[0]).toContain('CASE_PLATFORM_KEY');
    // Refused for more than 10 minutes: the outbox is stuck, and the process unready until someone fixes it.
    await t.server.db.query(`UPDATE outbox SET created_at = now() - interval '11 minutes' WHERE idempotency_key = 'k-ready'`);
    const stuck = await fetch(`${t.base}/readyz`);
    expect(stuck.status).toBe(503);
    expect(await stuck.json()).toMatchObject({ ready: false, reason: expect.stringContaining('outbox stuck'), outbox: { pending: 1, blocked: 1 } });
    await t.server.db.query(`DELETE FROM outbox WHERE idempotency_key = 'k-ready'`);
  });

  it('answers a question over HTTP', async () => {
    const res = await ask(JSON.stringify({ text: '護照過期了怎麼換' }));
    expect(res.status).toBe(200);
    const o = await res.json();
    expect(o.item).toEqual({ id: 'crj-02', name: '普通护照换发' });
    expect(o.answer.text).toContain('来源：《普通护照换发》办事指南');
    expect(o.features).toBeUndefined();
  });

  it('answers bad input with 400 and a clear message, and keeps serving', async () => {
    for (const [body, msg] of [
      ['{bad json', 'malformed JSON'],
      ['{}', 'non-empty "text"'],
      [JSON.stringify({ text: '   ' }), 'non-empty "text"'],
      [JSON.stringify({ text: 42 }), 'non-empty "text"'],
      [JSON.stringify({ text: '长'.repeat(2001) }), '2000'],
    ] as const) {
      const res = await ask(body);
      expect(res.status).toBe(400);
      expect((await res.json()).error).toContain(msg);
    }
    const big = await ask(JSON.stringify({ text: 'x'.repeat(100_000) }));
    expect(big.status).toBe(413);
    const emoji = await ask(JSON.stringify({ text: '😭😭身份证丢了😭' }));
    expect((await emoji.json()).item.id).toBe('sfz-04');
  });

  it('closes cleanly and releases the database for the next process', async () => {
    const cfg = testConfig();
    const s = await startServer({ ...cfg, port: 0 }, { handleSignals: false, quiet: true });
    await fetch(`http://127.0.0.1:${s.port}/api/ask`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ text: '身份证丢了 电话13812345678' }) });
    await s.close();
    const db = await openDatabase(cfg);
    const [q] = await recentQuestions(db, 1);
    expect(q!.text).toBe('身份证丢了 电话138****5678');
    expect(q!.channel).toBe('api');
    await db.close();
    removeDir(cfg.dataDir);
  });
});
