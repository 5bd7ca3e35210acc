import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../../bot/config.ts';
import {
  NO_CITATION,
  checkGrounding,
  chineseNumeralsToDigits,
  normalizeText,
  parseChineseNumber,
  termsFromGuides,
} from '../../../integrations/llm/grounding-guard.ts';

const units = [
  { n: 1, text: '普通护照每本120元（自2019年7月1日起执行）。' },
  { n: 2, text: '法定时限：自收到申请材料之日起15日内签发。' },
  { n: 3, text: '在户籍地申请的，自2018年9月1日起全国承诺7个工作日内签发。' },
  { n: 4, text: '咨询：国家移民管理局12367服务热线（7×24小时，中英文服务）。' },
  { n: 5, text: '网上：国家移民管理局政务服务平台（网站、移民局App）可预约和查询办证进度。' },
  { n: 6, text: '年满16周岁的，提交本人居民身份证；身份证正在办理中的，可提交临时居民身份证。' },
];
const terms = { terms: ['交管12123', '国家移民管理局政务服务平台', '本市公安政务服务平台', '自助机', '户口簿', '居民身份证', '临时居民身份证', '临时身份证明', '移民局App'] };
const check = (reply: string) => checkGrounding(reply, units, terms);

describe('checkGrounding', () => {
  it('passes a grounded paraphrase and returns the cited units', () => {
    const r = check('首次办理普通护照每本收费120元[1]，一般15天内签发[2]；在户籍地办理的7个工作日内[3]。');
    expect(r).toEqual({ ok: true, unsupported: [], citations: [1, 2, 3] });
  });

  it('fails an invented fee, naming it', () => {
    const r = check('办理普通护照收费60元[1]，15日内签发[2]。');
    expect(r.ok).toBe(false);
    expect(r.unsupported).toEqual(['60元']);
  });

  it('checks only the cited units: a fact from a unit given but not cited fails', () => {
    expect(check('普通护照每本120元[2]。')).toMatchObject({ ok: false, unsupported: ['120元'] });
  });

  it('fails a number with the wrong unit (15元 is not 15日, 7日 is not 7个工作日)', () => {
    expect(check('护照收费15元[2]。')).toMatchObject({ ok: false, unsupported: ['15元'] });
    expect(check('户籍地7日内签发[3]。')).toMatchObject({ ok: false, unsupported: ['7日'] });
    expect(check('户籍地7个工作日内签发[3]。').ok).toBe(true);
  });

  it('normalises Chinese numerals, in the reply and in the units', () => {
    expect(check('自收到材料之日起十五日内签发[2]。').ok).toBe(true);
    expect(check('自收到材料之日起十五天内签发[2]。').ok).toBe(true);
    expect(check('自收到材料之日起十日内签发[2]。')).toMatchObject({ ok: false, unsupported: ['10日'] });
    expect(checkGrounding('需在三个月内办理[1]。', [{ n: 1, text: '应当在3个月内申请。' }], terms).ok).toBe(true);
    expect(checkGrounding('有效期2年[1]。', [{ n: 1, text: '有效期两年。' }], terms).ok).toBe(true);
    expect(checkGrounding('半年内有效[1]。', [{ n: 1, text: '6个月内有效。' }], terms).ok).toBe(true);
    expect(checkGrounding('半年内有效[1]。', [{ n: 1, text: '3个月内有效。' }], terms).ok).toBe(false);
    expect(check('年满十六周岁的提交居民身份证[6]。').ok).toBe(true);
  });

  it('normalises full-width digits, punctuation and whitespace', () => {
    expect(check('普通护照每本１２０ 元［１］。').ok).toBe(true);
    expect(check('普通护照每本 120 元【1】').ok).toBe(true);
  });

  it('fails an invented material or channel from the terms', () => {
    expect(check('需提交居民身份证和户口簿[6]。')).toMatchObject({ ok: false, unsupported: ['户口簿'] });
    expect(check('可通过本市公安政务服务平台预约[5]。')).toMatchObject({ ok: false, unsupported: ['本市公安政务服务平台'] });
    expect(check('可在自助机上预约[5]。')).toMatchObject({ ok: false, unsupported: ['自助机'] });
    expect(check('可通过国家移民管理局政务服务平台或移民局App预约[5]。').ok).toBe(true);
    expect(check('身份证在办理中的，可提交临时居民身份证[6]。').ok).toBe(true);
  });

  it('fails a phone number or hotline not in the cited units', () => {
    expect(check('可拨打12367服务热线咨询[4]。').ok).toBe(true);
    expect(check('可拨打12345咨询[4]。')).toMatchObject({ ok: false, unsupported: ['12345'] });
    expect(check('紧急情况请拨打110[4]。')).toMatchObject({ ok: false, unsupported: ['110'] });
    expect(check('可致电0571-87280000咨询[4]。')).toMatchObject({ ok: false, unsupported: ['0571-87280000'] });
    expect(checkGrounding('请致电0571-87280000[1]', [{ n: 1, text: '咨询电话：0571 87280000' }], terms).ok).toBe(false);
    expect(checkGrounding('请致电0571-87280000[1]', [{ n: 1, text: '咨询电话：0571-87280000' }], terms).ok).toBe(true);
    // 120 in a fee does not support 120 as a phone number.
    expect(check('可拨打120[1]。')).toMatchObject({ ok: false, unsupported: ['120'] });
  });

  it('fails a web address not in the cited units', () => {
    expect(check('可登录www.nia.gov.cn预约[5]。')).toMatchObject({ ok: false, unsupported: ['www.nia.gov.cn'] });
    expect(checkGrounding('可登录https://s.nia.gov.cn预约[1]。', [{ n: 1, text: '网站：https://s.nia.gov.cn/ 可预约。' }], terms).ok).toBe(true);
  });

  it('fails a citation of a unit not given, and a reply citing nothing', () => {
    expect(check('普通护照每本120元[1][9]。')).toEqual({ ok: false, unsupported: ['[9]'], citations: [1] });
    expect(check('普通护照每本120元。')).toEqual({ ok: false, unsupported: [NO_CITATION, '120元'], citations: [] });
    expect(check('您好，请到窗口咨询。')).toMatchObject({ ok: false, unsupported: [NO_CITATION] });
    expect(check('护照120元[1, 2]。')).toMatchObject({ ok: true, citations: [1, 2] });
  });

  it('checks dates in their several forms', () => {
    expect(check('自2019年7月1日起每本120元[1]。').ok).toBe(true);
    expect(check('自2019-07-01起每本120元[1]。').ok).toBe(true);
    expect(check('自2019/7/1起每本120元[1]。').ok).toBe(true);
    expect(check('7月1日起每本120元[1]。').ok).toBe(true);
    expect(check('2019年起每本120元[1]。').ok).toBe(true);
    expect(check('自二〇一九年七月一日起每本120元[1]。').ok).toBe(true);
    expect(check('自2019年8月1日起每本120元[1]。')).toMatchObject({ ok: false, unsupported: ['2019年8月1日'] });
    expect(check('自2020-07-01起每本120元[1]。')).toMatchObject({ ok: false, unsupported: ['2020-07-01'] });
    expect(check('9月1日起承诺7个工作日[1]。')).toMatchObject({ ok: false, unsupported: ['9月1日', '7个工作日'] });
    expect(check('自2018年9月1日起7个工作日内签发[3]。').ok).toBe(true);
  });

  it('checks decimals, percentages and amounts in 万', () => {
    const u = [{ n: 1, text: '罚款200元，记3分；超速50%以上的罚款1.5万元。' }];
    expect(checkGrounding('超速百分之五十以上罚款15000元[1]。', u, terms).ok).toBe(true);
    expect(checkGrounding('超速50%以上罚款1.5万元，记3分[1]。', u, terms).ok).toBe(true);
    expect(checkGrounding('罚款200元，记6分[1]。', u, terms)).toMatchObject({ ok: false, unsupported: ['6分'] });
    expect(checkGrounding('罚款2.5万元[1]。', u, terms)).toMatchObject({ ok: false, unsupported: ['25000元'] });
  });

  it('reads English numbers with their units', () => {
    const u = [{ n: 1, text: 'The fee is 120 yuan per passport; it is issued within 15 days, or 7 working days where your household is registered.' }];
    expect(checkGrounding('It costs RMB 120 [1] and takes 15 days [1].', u, terms).ok).toBe(true);
    expect(checkGrounding('It costs 60 yuan [1].', u, terms)).toMatchObject({ ok: false, unsupported: ['60 yuan'] });
    expect(checkGrounding('It takes 15 working days [1].', u, terms)).toMatchObject({ ok: false, unsupported: ['15 working days'] });
    expect(checkGrounding('From September 1, 2018 [1].', u, terms)).toMatchObject({ ok: false, unsupported: ['September 1, 2018'] });
  });

  it('ignores list numbers and citation markers as numbers', () => {
    expect(check('1. 每本120元[1]\n2. 15日内签发[2]').ok).toBe(true);
  });

  it('lets a bare number of a range stand for the unit that follows it', () => {
    expect(checkGrounding('一般15至30日[1]。', [{ n: 1, text: '15日内签发，最长可延长至30日。' }], terms).ok).toBe(true);
    expect(checkGrounding('一般20至30日[1]。', [{ n: 1, text: '15日内签发，最长可延长至30日。' }], terms).ok).toBe(false);
  });
});

describe('Chinese numerals', () => {
  it('parses well-formed numbers and refuses words that only look like them', () => {
    expect(parseChineseNumber('十五')).toBe(15);
    expect(parseChineseNumber('二十')).toBe(20);
    expect(parseChineseNumber('一百零五')).toBe(105);
    expect(parseChineseNumber('两万五千')).toBe(25000);
    expect(parseChineseNumber('千万')).toBeNull();
    expect(parseChineseNumber('万一')).toBeNull();
    expect(parseChineseNumber('三四')).toBeNull();
  });

  it('turns quantities into digits and leaves words alone', () => {
    const n = (s: string) => chineseNumeralsToDigits(normalizeText(s));
    expect(n('十五日内')).toBe('15日内');
    expect(n('三个月')).toBe('3个月');
    expect(n('两年')).toBe('2年');
    expect(n('半年')).toBe('6个月');
    expect(n('十分钟')).toBe('10分钟');
    expect(n('三四天')).toBe('3-4天');
    expect(n('二〇一八年九月一日')).toBe('2018年9月1日');
    for (const word of ['十分重要', '千万不要', '万一丢失', '统一办理', '一次性告知', '第一次办', '一般']) expect(n(word)).toBe(word);
  });
});

describe('termsFromGuides', () => {
  const lines = [
    '- 《中国公民出入境证件申请表》（窗口或自助设备现场填写）',
    '- 本人居民身份证或户口簿',
    '- 年满16周岁的，提交本人居民身份证；身份证正在办理中的，可提交临时居民身份证。',
    '- 监护关系证明（出生医学证明、载明监护关系的户口簿等）',
    '- 网上：国家移民管理局政务服务平台（网站、移民局App）可预约；本市公安政务服务平台可预约。',
    '- 网上：交管12123 App。',
    '- 咨询：国家移民管理局12367服务热线（7×24小时）。',
    '- 近期免冠照片（可现场照相）',
    '- 填写申请表，出示证件。',
    '- 自助：部分政务服务中心的自助终端可办理拍照。',
    '- Online: the Traffic Management 12123 app; scrapping a vehicle happens at the office.',
  ];
  const t = termsFromGuides(lines);

  it('harvests titles, names by their endings, 12xxx services and known channels', () => {
    for (const want of [
      '中国公民出入境证件申请表',
      '居民身份证',
      '户口簿',
      '身份证',
      '临时居民身份证',
      '监护关系证明',
      '出生医学证明',
      '国家移民管理局政务服务平台',
      '本市公安政务服务平台',
      '移民局App',
      '交管12123App',
      '交管12123',
      '12123',
      '12367',
      '国家移民管理局12367服务热线',
      '免冠照片',
      '申请表',
      '自助设备',
      '自助终端',
      '政务服务中心',
    ])
      expect(t).toContain(want);
  });

  it('cuts verbs and modifiers in front and skips words that only end like a name', () => {
    expect(t).not.toContain('本人居民身份证');
    expect(t).not.toContain('提交本人居民身份证');
    expect(t).not.toContain('表');
    expect(t.some((x) => /证件$/.test(x) || x === '出示证')).toBe(false);
    expect(t.some((x) => /scrapp|happ/i.test(x))).toBe(false);
  });

  it('is deterministic and feeds the guard', () => {
    expect(termsFromGuides([...lines].reverse())).toEqual(t);
    const r = checkGrounding('带上户口簿和临时居民身份证[1]。', [{ n: 1, text: '可提交临时居民身份证。' }], { terms: t });
    expect(r).toMatchObject({ ok: false, unsupported: ['户口簿'] });
  });
});

describe('the guard on the real guides', () => {
  it('passes every guide line quoted as it is, with the terms harvested from all guides', () => {
    const dir = path.join(PROJECT_ROOT, 'knowledge-base', 'guides');
    const lines = readdirSync(dir)
      .filter((f) => f.endsWith('.md') && f !== 'README.md')
      .flatMap((f) => readFileSync(path.join(dir, f), 'utf8').split('\n'))
      .filter((l) => l.trim() && !l.startsWith('#') && !l.startsWith('---'));
    expect(lines.length).toBeGreaterThan(1000);
    const all = { terms: termsFromGuides(lines) };
    const rejected = lines.filter((l) => !checkGrounding(`${l}[1]`, [{ n: 1, text: l }], all).ok);
    expect(rejected).toEqual([]);
  });
});
