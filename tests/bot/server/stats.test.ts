/**
 * 统计 over HTTP: generated traffic — citizens' questions of known items, a hand-over, a
 * question out of scope, cases of two units closed on time and late, overdue and escalated,
 * ratings with a 差评 put right — and the API's totals reconcile exactly with it; a
 * supervisor of one 分局 sees that 分局's cases only; the CSV has one row per record.
 */
import { describe, expect, it } from 'vitest';
import { openDatabase } from '../../../bot/store/database.ts';
import { addStaff } from '../../../bot/store/staff.ts';
import { useTestServer } from '../../helpers/server.ts';
import { staffLogin } from '../../helpers/staff.ts';
import { generateStatsTraffic, STATS_ENV } from '../../helpers/stats-traffic.ts';

describe('统计: the stats API', () => {
  const t = useTestServer(STATS_ENV, async (config) => {
    const db = await openDatabase(config);
    await addStaff(db, 'ju', 'supervisor-pass-1', ['supervisor'], 'cli', { unit: 'sj' });
    await addStaff(db, 'fen', 'supervisor-pass-2', ['supervisor'], 'cli', { unit: 'fj-zhongxin' });
    await addStaff(db, 'zhou', 'handler-pass-01', ['handler'], 'cli', { unit: 'pcs-renmin' });
    await db.close();
  });
  it('reconciles exactly with the generated traffic, scoped by unit, with drill-down rows and CSV', async () => {
    await generateStatsTraffic(t.base, t.server.db);
    const logged = (await t.server.db.query<{ intent: string; item_id: string | null }>("SELECT intent, item_id FROM question_log WHERE channel <> 'cli' ORDER BY id")).rows;
    expect(logged.map((q) => q.intent)).toEqual(['answer', 'answer', 'handoff', 'out_of_scope']);

    const ju = await staffLogin(t.base, 'ju', 'supervisor-pass-1');
    const s = (await ju.get('/api/stats')).body;
    expect(s.service.conversations).toMatchObject({ total: 3, byChannel: [{ key: 'api', n: 3 }] });
    expect(s.service.conversations.byHour.reduce((a: number, b: number) => a + b, 0)).toBe(3);
    expect(s.service.messages.total).toBe(4);
    expect(s.service.questions.total).toBe(3);
    expect(s.service.questions.byCategory).toEqual(expect.arrayContaining([expect.objectContaining({ key: '出入境', n: 1 })]));
    expect(s.service.questions.topItems.map((x: { key: string }) => x.key).sort()).toEqual(logged.flatMap((q) => (q.item_id && q.intent === 'answer' ? [q.item_id] : [])).sort());
    expect(s.service.selfService).toEqual({ conversations: 3, resolved: 1, rate: 33.3 });
    expect(s.service.handover).toEqual({ count: 1, rate: 33.3, reasons: [{ key: '答复后仍要人工', name: '答复后仍要人工', n: 1 }] });
    expect(s.service.unanswered).toMatchObject({ questions: 1, rate: 33.3 });
    expect(s.service.knowledge.neverAsked.some((g: { id: string }) => g.id === 'crj-01')).toBe(false);
    expect(s.cases).toMatchObject({ opened: 4, closed: 3, overdue: 2, escalated: 1, onTimeRate: 66.7, medianFirstActionHours: 4, medianCloseHours: 24, badRatings: 1 });
    expect(s.ratings).toMatchObject({ distribution: { 非常满意: 1, 满意: 1, 基本满意: 0, 不满意: 1, 非常不满意: 0 }, rated: 3, satisfaction: 66.7, badRatings: 1, putRight: 1, unrated: 1 });
    expect(s.units.map((u: { unit: string; opened: number; onTimeRate: number }) => [u.unit, u.opened, u.onTimeRate])).toEqual([
      ['pcs-binjiang', 2, 100],
      ['pcs-renmin', 2, 50],
    ]);
    expect(s.definitions.selfService).toContain('72 小时');

    // A 分局's supervisor: its 派出所's cases only, no bureau-wide conversations, no other unit.
    const fen = await staffLogin(t.base, 'fen', 'supervisor-pass-2');
    const f = (await fen.get('/api/stats')).body;
    expect(f.service).toBeNull();
    expect(f.cases).toMatchObject({ opened: 2, closed: 2, overdue: 1 });
    expect(f.units.map((u: { unit: string }) => u.unit)).toEqual(['pcs-renmin']);
    expect((await fen.get('/api/stats?unit=pcs-binjiang')).status).toBe(403);
    expect((await fen.get('/api/stats/rows?kind=conversations')).status).toBe(403);
    expect((await ju.get('/api/stats?unit=fj-dongcheng')).body.cases.opened).toBe(2);

    // Drill-down: the rows behind a number, and the same as CSV, one line per record.
    const overdue = (await ju.get('/api/stats/rows?kind=cases&where.overdue=true')).body;
    expect(overdue.rows.map((r: { id: string }) => r.id).sort()).toEqual(['XA2', 'XA3']);
    const res = await fetch(`${t.base}/api/stats/rows?kind=cases&format=csv`, { headers: { cookie: ju.cookie } });
    expect(res.headers.get('content-type')).toContain('text/csv');
    const bytes = Buffer.from(await res.arrayBuffer());
    // A byte-order mark first, so that Excel reads the UTF-8.
    expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    const csv = bytes.subarray(3).toString('utf8');
    const lines = csv.trim().split('\r\n');
    expect(lines).toHaveLength(1 + 4);
    // Chinese headings and words, times in the bureau's zone, as a person reads them.
    expect(lines[0]!.split(',').slice(0, 6)).toEqual(['编号', '类型', '类别', '承办单位', '渠道', '状态']);
    const xa2 = lines.find((l) => l.startsWith('XA2,'))!.split(',');
    expect(xa2.slice(0, 6)).toEqual(['XA2', '求助', '治安', '人民路派出所', '网页对话', '已办结']);
    expect(xa2[7]).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}$/);
    expect(xa2).toContain('不满意、非常满意');

    // The same rows as an Excel workbook: a header row and one row per record.
    const xres = await fetch(`${t.base}/api/stats/rows?kind=cases&where.overdue=true&format=xlsx`, { headers: { cookie: ju.cookie } });
    expect(xres.headers.get('content-type')).toContain('spreadsheetml');
    expect(xres.headers.get('content-disposition')).toMatch(/xiaoan-cases-.*\.xlsx/);
    const { default: ExcelJS } = await import('exceljs');
    const book = new ExcelJS.Workbook();
    await book.xlsx.load(Buffer.from(await xres.arrayBuffer()) as unknown as ArrayBuffer);
    const sheet = book.worksheets[0]!;
    expect(sheet.name).toBe('诉求');
    expect(sheet.rowCount).toBe(1 + 2);
    expect(sheet.getRow(1).getCell(1).value).toBe('编号');
    expect([sheet.getRow(2).getCell(1).value, sheet.getRow(3).getCell(1).value].sort()).toEqual(['XA2', 'XA3']);

    // Narrowing: a 分局 takes in its 派出所; a rating, an unrated round, the hour asked.
    const ids = async (q: string) => ((await ju.get(`/api/stats/rows?kind=cases&${q}`)).body.rows as Array<{ id: string }>).map((r) => r.id).sort();
    expect(await ids('where.unit=fj-zhongxin')).toEqual(['XA1', 'XA2']);
    expect(await ids('where.rating=不满意')).toEqual(['XA2']);
    expect(await ids('where.notRated=true')).toEqual(['XA4']);
    const rows = (await ju.get('/api/stats/rows?kind=cases')).body;
    expect(rows.columns[0]).toEqual({ key: 'id', label: '编号' });
    const xa1 = rows.rows.find((r: { id: string }) => r.id === 'XA1');
    expect(await ids(`where.day=${xa1.day}&where.hour=${xa1.hour}`)).toContain('XA1');
    const questions = (await ju.get('/api/stats/rows?kind=questions')).body.rows as Array<{ hour: number }>;
    const hour = questions[0]!.hour;
    expect((await ju.get(`/api/stats/rows?kind=questions&where.hour=${hour}`)).body.total).toBe(questions.filter((q) => q.hour === hour).length);
    // A field the rows cannot be narrowed by, or an unknown unit: refused, and nothing audited.
    const audits = async () => Number((await t.server.db.query<{ n: string }>("SELECT count(*) AS n FROM audit_log WHERE action = 'stats.rows'")).rows[0]!.n);
    const before = await audits();
    expect((await ju.get('/api/stats/rows?kind=cases&where.citizenMobile=13800000000')).status).toBe(400);
    expect((await ju.get('/api/stats/rows?kind=questions&where.unit=pcs-renmin')).status).toBe(400);
    expect((await ju.get('/api/stats/rows?kind=cases&where.unit=nowhere')).status).toBe(400);
    expect((await ju.get('/api/stats/rows?kind=cases&format=pdf')).status).toBe(400);
    expect(await audits()).toBe(before);
    const handed = (await ju.get('/api/stats/rows?kind=conversations&where.handedOver=true')).body.rows;
    expect(handed).toHaveLength(1);
    expect(handed[0]).toMatchObject({ handoverReason: '答复后仍要人工', selfServed: false });

    // Warnings at one overdue case or one 差评: both units for the bureau; the handler of
    // 人民路派出所 sees his own unit's only.
    expect(s.warnings.map((w: { unit: string; overdue: number; badRatings: number }) => [w.unit, w.overdue, w.badRatings])).toEqual([
      ['pcs-binjiang', 1, 0],
      ['pcs-renmin', 0, 1],
    ]);
    expect(s.warnings[1].reasons).toEqual(['近 30 天差评 1 件（预警线 1 件）']);
    expect(f.warnings.map((w: { unit: string }) => w.unit)).toEqual(['pcs-renmin']);
    const zhou = await staffLogin(t.base, 'zhou', 'handler-pass-01');
    expect((await zhou.get('/api/stats/warnings')).body.warnings.map((w: { unit: string }) => w.unit)).toEqual(['pcs-renmin']);

    // Refusals: a handler, a bad period, an unknown unit or kind.
    expect((await zhou.get('/api/stats')).status).toBe(403);
    expect((await ju.get('/api/stats?from=2026-13-01')).status).toBe(400);
    expect((await ju.get('/api/stats?from=2026-12-02&to=2026-12-01')).status).toBe(400);
    expect((await ju.get('/api/stats?unit=nowhere')).status).toBe(400);
    expect((await ju.get('/api/stats/rows?kind=secrets')).status).toBe(400);
    // A period before the traffic: nothing.
    expect((await ju.get('/api/stats?from=2020-01-01&to=2020-01-31')).body.cases.opened).toBe(0);
  }, 60_000);
});

describe('统计: the definitions', () => {
  it('the README defines every metric with the text the API and the charts show', async () => {
    const { readFileSync } = await import('node:fs');
    const { DEFINITIONS } = await import('../../../bot/stats/stats.ts');
    const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');
    expect(Object.keys(DEFINITIONS).length).toBeGreaterThan(10);
    for (const [key, text] of Object.entries(DEFINITIONS)) expect(readme, key).toContain(`| \`${key}\` | ${text} |`);
  });
});
