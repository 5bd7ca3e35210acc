/** Splits a long text at sentence or line boundaries so each part fits a channel's limit. */

const BOUNDARY = /(?<=[。！？!?；;\n])/u;

export function splitText(text: string, maxChars: number): string[] {
  if ([...text].length <= maxChars) return [text];
  const parts: string[] = [];
  let current = '';
  const push = () => {
    if (current.trim()) parts.push(current.trim());
    current = '';
  };
  for (const sentence of text.split(BOUNDARY)) {
    if ([...current].length + [...sentence].length <= maxChars) {
      current += sentence;
      continue;
    }
    push();
    // A single sentence longer than the limit is cut by characters (never inside a surrogate pair).
    const chars = [...sentence];
    while (chars.length > maxChars) parts.push(chars.splice(0, maxChars).join(''));
    current = chars.join('');
  }
  push();
  return parts;
}
