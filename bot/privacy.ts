/** Masks ID-card and mobile numbers before text reaches logs, the store or analytics. */

// 18-digit resident ID (last may be X) and old 15-digit IDs; mainland mobile numbers.
const ID_CARD = /(?<!\d)(\d{6})(\d{8}|\d{6})(\d{3}[\dXx]|\d{1})(?![\dXx])/g;
const MOBILE = /(?<!\d)(?:\+?86[-\s]?)?(1[3-9]\d)[-\s]?(\d{4})[-\s]?(\d{4})(?!\d)/g;

export function maskPersonalNumbers(text: string): string {
  return text
    .replace(ID_CARD, (m, a: string, mid: string, end: string) =>
      m.length === 18 || m.length === 15 ? `${a}${'*'.repeat(mid.length)}${end}` : m,
    )
    .replace(MOBILE, (_m, a: string, _mid: string, end: string) => `${a}****${end}`);
}
