import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadRouting } from '../../../integrations/case-platform/desk/router.ts';
import { removeDir, tempDir } from '../../helpers/kb.ts';

const router = loadRouting();

describe('case routing from the text', () => {
  it.each([
    ['楼下KTV每天半夜噪音扰民，严重影响休息', '北苑路 12 号', '投诉', '治安', '北苑派出所', '市公安局治安管理支队'],
    ['举报小区地下室有人聚众赌博', '滨江大道 8 号', '举报', '治安', '滨江派出所', '市公安局治安管理支队'],
    ['人民路路口红绿灯坏了，早高峰拥堵严重', '人民路', '咨询', '交警', '市公安局交警支队中心区大队', '市公安局交警支队'],
    ['派出所窗口民警态度很差，办居住证一直推诿', '', '投诉', '队伍作风', '市公安局督察支队', '市公安局督察支队'],
    ['建议出入境大厅周六延长办公时间，方便上班族办护照', '', '建议', '出入境', '市公安局出入境管理支队', '市公安局政务服务中心'],
    ['我家老人走失了，请帮忙寻找', '科学城', '求助', '其他', '市公安局政务服务中心', '市公安局督察支队'],
  ])('%s', (text, place, type, category, unit, supervisor) => {
    const r = router.route(text, place);
    expect(r).toMatchObject({ type, category });
    expect(r.handlingUnit.name).toBe(unit);
    expect(r.supervisingUnit.name).toBe(supervisor);
    expect(r.dueHours).toBeGreaterThan(0);
  });

  it('keeps the type the citizen chose', () => {
    expect(router.route('身份证办了两个月还没拿到', '', '投诉')).toMatchObject({ type: '投诉', category: '户政' });
  });

  it('ships at least 15 units, every supervisor known', () => {
    expect(router.units.length).toBeGreaterThanOrEqual(15);
    for (const u of router.units) expect(() => router.unit(u.supervisor)).not.toThrow();
  });

  it('is an organisation tree: one bureau, 分局/支队 under it, 派出所/大队 under those', () => {
    expect(router.root.id).toBe('sj');
    expect(router.subtree('fj-zhongxin')).toEqual(['fj-zhongxin', 'pcs-renmin']);
    expect(router.subtree('jiaojing-zd').sort()).toEqual(['cgs', 'jiaojing-zd', 'jj', 'jj-north']);
    expect(router.subtree('sj')).toHaveLength(router.units.length);
    expect(router.subtree('pcs-renmin')).toEqual(['pcs-renmin']);
    expect(router.subtree('nowhere')).toEqual([]);
    expect(router.path('pcs-renmin')).toBe('市公安局 / 中心区分局 / 人民路派出所');
    expect(router.dispatcher.id).toBe('zwzx');
    // Every 派出所 sits under a 分局.
    for (const u of router.units.filter((x) => x.id.startsWith('pcs-'))) expect(router.unit(u.parent!).name).toMatch(/分局$/);
  });

  it('refuses a tree with a loop, a second root or an unknown parent', () => {
    const dir = tempDir();
    const file = path.join(dir, 'routing.yaml');
    const units = (lines: string) => `types: {}\ncategories:\n  其他: { keywords: [], due_hours: 24, unit: a }\nunits:\n${lines}`;
    const many = Array.from({ length: 14 }, (_, i) => `  - { id: u${i}, name: U${i}, parent: a, supervisor: a }\n`).join('');
    writeFileSync(file, units(`  - { id: a, name: A, supervisor: a }\n  - { id: b, name: B, parent: c, supervisor: a }\n  - { id: c, name: C, parent: b, supervisor: a }\n${many}`));
    expect(() => loadRouting(file)).toThrow(/unit b: its parents loop/);
    writeFileSync(file, units(`  - { id: a, name: A, supervisor: a }\n  - { id: b, name: B, supervisor: a }\n  - { id: c, name: C, parent: x, supervisor: a }\n${many}`));
    expect(() => loadRouting(file)).toThrow(/one unit without a parent \(the bureau\) expected, found a, b.*unit c: unknown parent "x"/);
    removeDir(dir);
  });

  it('refuses a rules file that names an unknown unit, with the reason', () => {
    const dir = tempDir();
    const file = path.join(dir, 'routing.yaml');
    writeFileSync(file, 'types: {}\ncategories:\n  户政: { keywords: [户口], due_hours: 24, unit: nowhere }\nunits:\n  - { id: a, name: A, supervisor: b }\n');
    expect(() => loadRouting(file)).toThrow(/category 户政: unknown unit "nowhere".*unit a: unknown supervisor "b"/);
    removeDir(dir);
  });
});
