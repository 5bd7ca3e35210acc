/**
 * The deterministic check between a model's rephrasing and the guide lines it cites: every
 * number (with its unit), date, phone number, web address and known channel or material name
 * in the reply must appear in the text of a cited unit. Pure: no I/O, no clock, no randomness.
 *
 * Deliberately strict: a false "ungrounded" only costs the nicer wording (the extractive
 * answer is sent instead), a false "ok" could tell a citizen a wrong fee.
 */

export interface GroundingTerms {
  /** Known channel and material names (交管12123, 户口簿…); any one in the reply must be in a cited unit. */
  terms: string[];
}

export interface GroundingUnit {
  n: number;
  text: string;
}

export interface GroundingResult {
  ok: boolean;
  /** What the cited units do not support, as written in the (normalised) reply; "[7]" for a unit not given. */
  unsupported: string[];
  /** Cited unit numbers that were given, in order of first citation. */
  citations: number[];
}

/** Shown in `unsupported` when the reply cites nothing. */
export const NO_CITATION = '[无引用]';

// [1], [1][2], [1,2], 【1】: one or two digits, so 〔2019〕-style document numbers never read as citations.
const CITATION = /\[(\d{1,2}(?:\s*[,、]\s*\d{1,2})*)\]/g;

/** Full-width forms to ASCII (NFKC), 【】 to [], whitespace collapsed (line breaks kept) and dropped next to Chinese. */
export function normalizeText(s: string): string {
  return s
    .normalize('NFKC')
    .replace(/【/g, '[')
    .replace(/】/g, ']')
    .replace(/[^\S\n]+/g, ' ')
    .replace(/ ?\n ?/g, '\n')
    .replace(/ ?([\p{Script=Han}，。；：、（）《》“”]) ?/gu, '$1')
    .trim();
}

// ---------------------------------------------------------------------------------------
// Chinese numerals

const DIGIT: Record<string, number> = { 零: 0, 〇: 0, 一: 1, 二: 2, 两: 2, 三: 3, 四: 4, 五: 5, 六: 6, 七: 7, 八: 8, 九: 9 };
const SMALL: Record<string, number> = { 十: 10, 百: 100, 千: 1000 };
const BIG: Record<string, number> = { 万: 1e4, 亿: 1e8 };

/** A unit (or 个 + unit) right after a numeral: only then is a lone 一/两/三 a quantity (not 统一, 一般). */
const UNIT_AFTER = /^(?:个?(?:工作日|月|小时)|周岁|岁|元|日|天|年|分钟|分|次|座|周|条|倍|%)/;

/** 十五 → 15, 一百零五 → 105, 两万 → 20000; null for what is not a well-formed number (千万, 万一, 三四). */
export function parseChineseNumber(run: string): number | null {
  const first = run[0];
  if (first === undefined || (!(first in DIGIT) && first !== '十')) return null;
  let total = 0;
  let section = 0;
  let num = 0;
  let lastDigit = false;
  for (const ch of run) {
    if (ch in DIGIT) {
      if (lastDigit && num !== 0) return null;
      num = DIGIT[ch]!;
      lastDigit = true;
    } else if (ch in SMALL) {
      if (!lastDigit && ch !== '十') return null;
      if (lastDigit && num === 0) return null;
      section += (lastDigit ? num : 1) * SMALL[ch]!;
      num = 0;
      lastDigit = false;
    } else if (ch in BIG) {
      const s = section + num;
      if (s === 0) return null;
      total += s * BIG[ch]!;
      section = 0;
      num = 0;
      lastDigit = false;
    } else {
      return null;
    }
  }
  return total + section + num;
}

const trimNumber = (n: number) => String(Number(n.toFixed(4)));

/** Chinese numerals as digits where they are quantities, on text already normalised. */
export function chineseNumeralsToDigits(text: string): string {
  return text
    .replace(/百分之([零〇一二两三四五六七八九十百]+|\d+(?:\.\d+)?)/g, (m, n: string) => {
      const v = /\d/.test(n) ? Number(n) : parseChineseNumber(n);
      return v === null ? m : `${trimNumber(v)}%`;
    })
    .replace(/半年/g, '6个月')
    .replace(/[零〇一二两三四五六七八九十百千万亿]+/g, (run: string, offset: number, all: string) => {
      const before = all[offset - 1] ?? '';
      const after = all.slice(offset + run.length);
      const unitNext = UNIT_AFTER.test(after);
      // Idioms that are not quantities.
      if (run === '十' && after.startsWith('分') && !after.startsWith('分钟')) return run;
      if (run === '一' && (after.startsWith('次性') || (before === '第' && after.startsWith('次')))) return run;
      if (run.length === 1 && !unitNext) return run;
      if (!/[十百千万亿]/.test(run)) {
        const digits = [...run].map((c) => DIGIT[c]!);
        // 二〇一八年: digit by digit.
        if (after.startsWith('年') && run.length === 4) return digits.join('');
        // 三四天: a range.
        if (run.length === 2 && unitNext && digits[1] === digits[0]! + 1) return `${digits[0]}-${digits[1]}`;
        if (run.length > 1) return run;
      }
      const v = parseChineseNumber(run);
      return v === null ? run : trimNumber(v);
    })
    .replace(/(\d+(?:\.\d+)?)万/g, (_m, n: string) => trimNumber(Number(n) * 1e4));
}

// ---------------------------------------------------------------------------------------
// Claims

/** One checkable claim: `key` is compared, `shown` is reported. */
interface Claim {
  kind: 'quantity' | 'phone' | 'date' | 'url';
  key: string;
  value: string;
  unit: string;
  shown: string;
}

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const MONTH_NAME = '(jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\\.?';
const monthOf = (name: string) => MONTHS.indexOf(name.slice(0, 3).toLowerCase()) + 1;

type DateParts = { y?: number; m: number; d?: number };
const DATE_PATTERNS: Array<[RegExp, (g: string[]) => DateParts]> = [
  [/(\d{4})年(\d{1,2})月(\d{1,2})[日号]/g, (g) => ({ y: +g[1]!, m: +g[2]!, d: +g[3]! })],
  [/(?<![\d.])(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?![\d])/g, (g) => ({ y: +g[1]!, m: +g[2]!, d: +g[3]! })],
  [new RegExp(`\\b${MONTH_NAME}\\s+(\\d{1,2})(?:st|nd|rd|th)?(?:,?\\s+(\\d{4}))?\\b`, 'gi'), (g) => ({ m: monthOf(g[1]!), d: +g[2]!, y: g[3] ? +g[3] : undefined })],
  [new RegExp(`\\b(\\d{1,2})(?:st|nd|rd|th)?\\s+${MONTH_NAME}(?:,?\\s+(\\d{4}))?\\b`, 'gi'), (g) => ({ d: +g[1]!, m: monthOf(g[2]!), y: g[3] ? +g[3] : undefined })],
  [/(\d{4})年(\d{1,2})月(?![\d份])/g, (g) => ({ y: +g[1]!, m: +g[2]! })],
  [/(?<![\d.])(\d{1,2})月(\d{1,2})[日号]/g, (g) => ({ m: +g[1]!, d: +g[2]! })],
];

const dateKey = (p: DateParts) => (p.y !== undefined && p.d !== undefined ? `${p.y}-${p.m}-${p.d}` : p.y !== undefined ? `${p.y}-${p.m}` : `${p.m}-${p.d}`);

// ASCII only: Chinese right after an address is not part of it.
const URL = /\b(?:https?:\/\/[\w\-.~:/?#@!$&*+=%]+|www\.[a-z0-9.-]+\.[a-z]{2,}[\w\-.~:/?#@!$&*+=%]*)/gi;

const UNIT_WORDS =
  '个工作日|工作日|个月|个小时|小时|分钟|周岁|岁|元|日|天|月|年|分|%|座|次|周|条|倍|' +
  '(?:yuan|rmb|working\\s+days?|business\\s+days?|days?|months?|years?\\s+old|years?|hours?|minutes?|points?|times|percent)\\b';
// Landlines with area code, 400 numbers, mobiles, 12xxx / 95xxx / 96xxx service lines, 110–122.
const PHONE = new RegExp(`(?<![\\d.])(0\\d{2,3}-?\\d{7,8}|400-?\\d{3}-?\\d{4}|1[3-9]\\d{9}|12\\d{3}|9[56]\\d{3}|11\\d|12[0-2])(?![\\d.])(?!\\s*(?:个|${UNIT_WORDS}))`, 'gi');

const QUANTITY = new RegExp(`(?<![\\d.])(\\d+(?:\\.\\d+)?)\\s*(${UNIT_WORDS})?`, 'gi');

const CANONICAL_UNIT: Array<[RegExp, string]> = [
  [/^(个工作日|工作日|working\s+days?|business\s+days?)$/i, '个工作日'],
  [/^(日|天|days?)$/i, '日'],
  [/^(个月|months?)$/i, '个月'],
  [/^(个小时|小时|hours?)$/i, '小时'],
  [/^(分钟|minutes?)$/i, '分钟'],
  [/^(周岁|岁|years?\s+old)$/i, '岁'],
  [/^(年|years?)$/i, '年'],
  [/^(元|yuan|rmb)$/i, '元'],
  [/^(分|points?)$/i, '分'],
  [/^(%|percent)$/i, '%'],
  [/^(次|times)$/i, '次'],
];
const canonicalUnit = (u: string) => CANONICAL_UNIT.find(([re]) => re.test(u))?.[1] ?? u;

/** Text ready for claims: normalised, numerals as digits, ¥120 as 120元. */
function claimText(s: string): string {
  return chineseNumeralsToDigits(normalizeText(s)).replace(/(?:RMB|CNY|¥)\s*(\d+(?:\.\d+)?)/gi, '$1元');
}

/**
 * The claims of one text. `components` adds a date's year, month and day as quantities too
 * (for the units' side: "2018年" in a reply is supported by 2018年9月1日 in a unit).
 */
function extractClaims(raw: string, components: boolean): Claim[] {
  const claims: Claim[] = [];
  let text = claimText(raw)
    .replace(CITATION, ' ')
    // List markers (1. / 2、/ (3)) are not claims.
    .replace(/(^|\n)\s*(?:\d{1,2}[.、)](?!\d)|\(\d{1,2}\))\s*/g, '$1');

  text = text.replace(URL, (m) => {
    const key = m.toLowerCase().replace(/^https?:\/\//, '').replace(/[/.]+$/, '');
    claims.push({ kind: 'url', key: `U:${key}`, value: key, unit: '', shown: m });
    return ' ';
  });

  for (const [re, parts] of DATE_PATTERNS) {
    text = text.replace(re, (...args: unknown[]) => {
      const m = args[0] as string;
      const p = parts(args.slice(0, -2) as string[]);
      if (p.m < 1 || p.m > 12 || (p.d !== undefined && (p.d < 1 || p.d > 31))) return m;
      claims.push({ kind: 'date', key: `D:${dateKey(p)}`, value: dateKey(p), unit: '', shown: m });
      if (components) {
        if (p.y !== undefined && p.d !== undefined) {
          claims.push({ kind: 'date', key: `D:${p.m}-${p.d}`, value: '', unit: '', shown: m });
          claims.push({ kind: 'date', key: `D:${p.y}-${p.m}`, value: '', unit: '', shown: m });
        }
        if (p.y !== undefined) claims.push({ kind: 'quantity', key: `Q:${p.y}:年`, value: String(p.y), unit: '年', shown: m });
        claims.push({ kind: 'quantity', key: `Q:${p.m}:月`, value: String(p.m), unit: '月', shown: m });
        if (p.d !== undefined) claims.push({ kind: 'quantity', key: `Q:${p.d}:日`, value: String(p.d), unit: '日', shown: m });
      }
      return ' ';
    });
  }

  text = text.replace(PHONE, (m) => {
    const digits = m.replace(/-/g, '');
    claims.push({ kind: 'phone', key: `T:${digits}`, value: digits, unit: '', shown: m });
    return ' ';
  });

  for (const m of text.matchAll(QUANTITY)) {
    const value = trimNumber(Number(m[1]));
    const unit = m[2] ? canonicalUnit(m[2].replace(/\s+/g, ' ')) : '';
    claims.push({ kind: 'quantity', key: `Q:${value}:${unit}`, value, unit, shown: m[0].trim() });
  }
  return claims;
}

/** For term matching: NFKC, no whitespace, Latin lower-cased (App = app). */
const termForm = (s: string) => s.normalize('NFKC').replace(/\s+/g, '').toLowerCase();

// One list serves every answer: its normalised forms are made once (the list is treated as fixed).
const formsOf = new WeakMap<string[], Array<[string, string]>>();
function termForms(list: string[]): Array<[string, string]> {
  let f = formsOf.get(list);
  if (!f || f.length !== list.length) formsOf.set(list, (f = list.map((t) => [t, termForm(t)])));
  return f;
}

/** The unit numbers a reply cites, valid or not, in order. */
export function citedNumbers(reply: string): number[] {
  const out: number[] = [];
  for (const m of normalizeText(reply).matchAll(CITATION)) {
    for (const n of m[1]!.split(/[,、]/)) {
      const v = Number(n.trim());
      if (!out.includes(v)) out.push(v);
    }
  }
  return out;
}

export function checkGrounding(reply: string, units: GroundingUnit[], terms: GroundingTerms): GroundingResult {
  const unsupported: string[] = [];
  const miss = (s: string) => {
    if (!unsupported.includes(s)) unsupported.push(s);
  };

  const given = new Map(units.map((u) => [u.n, u.text]));
  const cited = citedNumbers(reply);
  const citations = cited.filter((n) => given.has(n));
  for (const n of cited) if (!given.has(n)) miss(`[${n}]`);
  if (!cited.length) miss(NO_CITATION);

  const citedText = citations.map((n) => given.get(n)!);
  const support = extractClaims(citedText.join('\n'), true);
  const keys = new Set(support.map((c) => c.key));
  const values = new Set(support.filter((c) => c.kind === 'quantity' || c.kind === 'phone').map((c) => c.value));
  const phones = new Set(support.filter((c) => c.kind === 'phone' || (c.kind === 'quantity' && !c.unit)).map((c) => c.value));
  const supportedUrl = (key: string) => support.some((c) => c.kind === 'url' && (c.key === key || c.key.startsWith(`${key}/`)));

  for (const c of extractClaims(reply, false)) {
    const ok =
      c.kind === 'quantity'
        ? // A bare number (15 of "15至30日") may stand for any unit; one with a unit needs that unit.
          c.unit
          ? keys.has(c.key)
          : values.has(c.value)
        : c.kind === 'phone'
          ? phones.has(c.value)
          : c.kind === 'url'
            ? supportedUrl(c.key)
            : keys.has(c.key);
    if (!ok) miss(c.shown);
  }

  const replyTerms = termForm(reply);
  const unitTerms = termForm(citedText.join('\n'));
  for (const [t, f] of termForms(terms.terms)) {
    if (f && replyTerms.includes(f) && !unitTerms.includes(f)) miss(t);
  }

  return { ok: unsupported.length === 0, unsupported, citations };
}

// ---------------------------------------------------------------------------------------
// Terms from guides

const TERM_SUFFIX = /证明|小程序|照片|平台|热线|App|app|证|簿|表/g;
// 证件/证书/证号… and 表示/表达… are other words.
const NOT_TERM_END: Record<string, RegExp> = { 证: /^[件书号照据实言]/, 表: /^[示达现彰演态]/, App: /^[a-z]/i, app: /^[a-z]/i };
// Verbs and modifiers in front of a name, not part of it (longest first: 申请人 before 申请).
// No 交/经/用: they begin names too (交管12123, 经营许可证).
const LEADING = new RegExp(
  `^(?:${'提交 携带 持有 持 凭 出示 提供 填写 登录 通过 使用 安装 同时 可以 可 须 需要 需 另交 另 交验 带上 由 按 以 否 拨打 关注 下载 打开 进入 前往 选择 领取 核验 查询 预约 缴纳 作为 办理 申领 补领 换领 申请人 申请 还 也 已 如 将 其 每 本人 监护人 受托人 有效 近期 原'
    .split(' ')
    .sort((a, b) => b.length - a.length)
    .join('|')})`,
);

/** Leading verbs and modifiers cut off while a name of at least 3 characters remains (填写申请表 → 申请表, not 表). */
function stripLeading(name: string): string {
  for (;;) {
    const m = LEADING.exec(name);
    if (!m || name.length - m[0].length < 3) return name;
    name = name.slice(m[0].length);
  }
}
// Punctuation, conjunctions, particles and prepositions, and quantities (30日内) end a name.
const CHUNK_SPLIT =
  /[\s,.;:!?()[\]"'/|，。；：、（）【】“”‘’！？…·]+|或者|以及|什么|怎么|哪种|[或和及与的等并了吗呢啥吧让向在到去给把是要都就被从]|\d+(?:\.\d+)?(?:个工作日|个月|周岁|[日天年月元岁])内?/;

/** Channels named without one of the suffixes; taken when a guide line mentions them. */
export const COMMON_CHANNELS = ['自助机', '自助终端', '自助设备', '派出所', '车管所', '交警大队', '出入境接待大厅', '政务服务中心', '邮寄', '微信', '支付宝'];

/**
 * Likely channel and material names in guide lines: 《…》 titles, names ending in 证/簿/证明/
 * 表/照片/平台/App/小程序/热线 (leading verbs and modifiers cut off), and 12xxx numbers.
 * Over-long or odd names are harmless: a name only counts when the reply contains it.
 */
export function termsFromGuides(lines: string[]): string[] {
  const found = new Set<string>();
  for (const raw of lines) {
    // "交管12123 App" is one name.
    const line = raw.normalize('NFKC').replace(/(?<=[\p{Script=Han}\d])\s+(?=(?:App|app)(?![a-z]))/gu, '');
    for (const m of line.matchAll(/《([^《》]{2,40})》/g)) found.add(m[1]!.trim());
    for (const m of line.matchAll(/(?<!\d)12\d{3}(?!\d)/g)) found.add(m[0]);
    // 交管12123: a service named by its number.
    for (const m of line.matchAll(/\p{Script=Han}{1,8}12\d{3}(?!\d)/gu)) {
      const name = stripLeading(m[0]);
      if (/^\p{Script=Han}{2,}/u.test(name)) found.add(name);
    }
    for (const t of COMMON_CHANNELS) if (line.includes(t)) found.add(t);
    for (const chunk of line.replace(/《[^《》]*》/g, ' ').split(CHUNK_SPLIT)) {
      for (const m of chunk.matchAll(TERM_SUFFIX)) {
        const end = m.index + m[0].length;
        if (NOT_TERM_END[m[0]]?.test(chunk.slice(end))) continue;
        const name = stripLeading(chunk.slice(0, end));
        if (name.length > m[0].length && name.length >= 3 && name.length <= 16) found.add(name);
      }
    }
  }
  return [...found].sort();
}
