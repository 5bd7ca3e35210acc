/**
 * The rows behind a number as a table for people: the columns of columns.yaml with their
 * Chinese headings, codes written as words, times in the bureau's time zone. The same table
 * goes out as CSV or as an Excel workbook.
 */
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { sourceFile } from '../paths.ts';

export type RowKind = 'cases' | 'conversations' | 'questions';
type Columns = Record<RowKind, Record<string, string>> & { values: Record<string, Record<string, string>> };
const COLUMNS = parse(readFileSync(sourceFile(import.meta.url, 'columns.yaml'), 'utf8')) as Columns;

/** A kind's columns, in order: the row field and its heading. */
export const columnsOf = (kind: RowKind) => Object.entries(COLUMNS[kind]).map(([key, label]) => ({ key, label }));

const TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

export interface Table {
  headings: string[];
  cells: Array<Array<string | number>>;
}

export function tableOf(kind: RowKind, rows: Array<Record<string, unknown>>, timeZone: string): Table {
  const columns = columnsOf(kind);
  const time = new Intl.DateTimeFormat('sv-SE', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
  const cell = (key: string, v: unknown): string | number => {
    if (v === null || v === undefined) return '';
    if (typeof v === 'boolean') return v ? '是' : '否';
    if (typeof v === 'number') return v;
    if (Array.isArray(v)) return v.join('、');
    const s = String(v);
    if (TIME.test(s)) return time.format(new Date(s));
    return COLUMNS.values[key]?.[s] ?? s;
  };
  return { headings: columns.map((c) => c.label), cells: rows.map((r) => columns.map((c) => cell(c.key, r[c.key]))) };
}

/** A cell a spreadsheet would run as a formula (=, +, -, @ first) is kept as text. */
const inert = (s: string) => (/^[=+\-@\t\r]/.test(s) && !/^-?\d+(\.\d+)?$/.test(s) ? `'${s}` : s);

/** CSV for Excel: UTF-8 with a byte-order mark (so it reads the Chinese), CRLF lines, quoted where needed. */
export function toCsv(t: Table): string {
  const cell = (v: string | number) => {
    const s = inert(String(v));
    return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  return `\uFEFF${[t.headings, ...t.cells].map((line) => line.map(cell).join(',')).join('\r\n')}\r\n`;
}

/** An Excel workbook of one sheet; exceljs is loaded only when someone exports. */
export async function toXlsx(t: Table, sheetName: string): Promise<Buffer> {
  const { default: ExcelJS } = await import('exceljs');
  const book = new ExcelJS.Workbook();
  book.creator = '小安';
  const sheet = book.addWorksheet(sheetName, { views: [{ state: 'frozen', ySplit: 1 }] });
  sheet.addRow(t.headings).font = { bold: true };
  // A workbook's string cell is never run as a formula, so it needs no guard.
  for (const line of t.cells) sheet.addRow(line);
  sheet.columns.forEach((col, i) => {
    const widest = Math.max(...[t.headings[i] ?? '', ...t.cells.map((l) => String(l[i] ?? ''))].map((s) => [...s].reduce((w, ch) => w + (ch.charCodeAt(0) > 0xff ? 2 : 1), 0)));
    col.width = Math.min(60, Math.max(8, widest + 2));
  });
  return Buffer.from(await book.xlsx.writeBuffer());
}
