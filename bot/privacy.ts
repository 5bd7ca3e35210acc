/**
 * Masks ID-card, mobile and bank-card numbers before text reaches logs, the store or
 * analytics. Numbers are found the way people type them: full-width digits, and digits
 * separated by spaces, dots or dashes ("138 1234 5678", "138.1234.5678", "１３８…").
 * Only the number itself is rewritten; the text around it is kept as written.
 */

// A digit, full-width or not; the separators people put between digits.
const D = '[0-9\\uFF10-\\uFF19]';
const SEP = '[ \\u3000.\\-\\u00B7\\uFF0E\\uFF0D]?';
const X = '[0-9\\uFF10-\\uFF19Xx\\uFF38\\uFF58]';
const run = (n: string) => `${D}(?:${SEP}${D})${n}`;

// 18-digit resident ID (last may be X) and the old 15-digit one; mainland mobiles (+86
// optional); bank cards of 16–19 digits. Longest first, so an ID is not read as a card.
const ID_18 = new RegExp(`(?<![0-9\\uFF10-\\uFF19])${run('{16}')}${SEP}${X}(?![0-9\\uFF10-\\uFF19Xx\\uFF38\\uFF58])`, 'g');
const ID_15 = new RegExp(`(?<![0-9\\uFF10-\\uFF19])${run('{14}')}(?![0-9\\uFF10-\\uFF19])`, 'g');
const MOBILE = new RegExp(`(?<![0-9\\uFF10-\\uFF19])(?:(?:\\+|\\uFF0B)?(?:86|\\uFF18\\uFF16)[ \\u3000\\-]?)?[1\\uFF11][3-9\\uFF13-\\uFF19]${D}(?:${SEP}${D}){8}(?![0-9\\uFF10-\\uFF19])`, 'g');
const BANK = new RegExp(`(?<![0-9\\uFF10-\\uFF19])${run('{15,18}')}(?![0-9\\uFF10-\\uFF19])`, 'g');

/** Eleven digits in a row (separators allowed): the shortest number masked is a mobile's. */
const ELEVEN_DIGITS = new RegExp(`${run('{10}')}`);

/** Whether the text may hold a number maskPersonalNumbers would mask (false: it is left as it is). */
export const mayHoldPersonalNumber = (text: string) => ELEVEN_DIGITS.test(text);

/** Half-width digits and X, without separators: what the number "is". */
const digitsOf = (s: string) => s.normalize('NFKC').replace(/[^0-9Xx]/g, '').toUpperCase();

/** An 18-digit ID has a plausible birth date (19xx/20xx, month 01–12): order numbers stay. */
const looksLikeId18 = (d: string) => /^\d{6}(19|20)\d{2}(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])\d{3}[\dX]$/.test(d);
const looksLikeId15 = (d: string) => /^\d{6}\d{2}(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])\d{3}$/.test(d);

export function maskPersonalNumbers(text: string): string {
  return text
    .replace(ID_18, (m) => {
      const d = digitsOf(m);
      return looksLikeId18(d) ? `${d.slice(0, 6)}********${d.slice(14)}` : m;
    })
    .replace(ID_15, (m) => {
      const d = digitsOf(m);
      return looksLikeId15(d) ? `${d.slice(0, 6)}******${d.slice(12)}` : m;
    })
    .replace(MOBILE, (m) => {
      const d = digitsOf(m).replace(/^86(?=1\d{10}$)/, '');
      return `${d.slice(0, 3)}****${d.slice(7)}`;
    })
    .replace(BANK, (m) => {
      const d = digitsOf(m);
      return d.length >= 16 && d.length <= 19 && !d.includes('*') ? `${'*'.repeat(d.length - 4)}${d.slice(-4)}` : m;
    });
}

/** A copy of a JSON value with the numbers in every string masked (keys and structure kept). */
export function maskValue<T>(value: T): T {
  if (typeof value === 'string') return maskPersonalNumbers(value) as T;
  if (Array.isArray(value)) return value.map((v) => maskValue(v)) as T;
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, maskValue(v)])) as T;
  return value;
}
