/**
 * Splits a long text at sentence or line boundaries so each part fits a channel's limit,
 * measured in characters (web chat) or UTF-8 bytes (WeChat's 2048-byte texts).
 */

const BOUNDARY = /(?<=[。！？!?；;\n])/u;

export type Measure = (s: string) => number;
export const chars: Measure = (s) => [...s].length;
export const utf8Bytes: Measure = (s) => Buffer.byteLength(s, 'utf8');

export function splitText(text: string, max: number, measure: Measure = chars): string[] {
  if (measure(text) <= max) return [text];
  const parts: string[] = [];
  let current = '';
  const push = () => {
    if (current.trim()) parts.push(current.trim());
    current = '';
  };
  for (const sentence of text.split(BOUNDARY)) {
    if (measure(current + sentence) <= max) {
      current += sentence;
      continue;
    }
    push();
    // A sentence longer than the limit is cut between characters (never inside one).
    let piece = '';
    for (const ch of sentence) {
      if (measure(piece + ch) > max) {
        parts.push(piece);
        piece = '';
      }
      piece += ch;
    }
    current = piece;
  }
  push();
  return parts;
}
