/**
 * Rows as CSV for a spreadsheet: UTF-8 with a byte-order mark (so Excel reads the Chinese),
 * CRLF lines, every cell quoted where needed, and a cell that a spreadsheet would run as a
 * formula (=, +, -, @ first) kept as text.
 */
const cell = (v: unknown): string => {
  if (v === null || v === undefined) return '';
  let s = Array.isArray(v) ? v.join('、') : String(v);
  if (/^[=+\-@\t\r]/.test(s) && !/^-?\d+(\.\d+)?$/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};

export function toCsv(rows: Array<Record<string, unknown>>): string {
  const keys = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  const lines = [keys.map(cell).join(','), ...rows.map((r) => keys.map((k) => cell(r[k])).join(','))];
  return `\uFEFF${lines.join('\r\n')}\r\n`;
}
