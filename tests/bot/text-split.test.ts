import { describe, expect, it } from 'vitest';
import { splitText } from '../../bot/text-split.ts';

describe('splitText', () => {
  it('keeps a short text whole', () => {
    expect(splitText('身份证丢了请补领。', 100)).toEqual(['身份证丢了请补领。']);
  });

  it('splits at sentence ends, each part within the limit, losing nothing', () => {
    const text = '第一句话很长很长。第二句也不短！第三句呢？第四句；第五句\n第六句。';
    const parts = splitText(text, 10);
    for (const p of parts) expect([...p].length).toBeLessThanOrEqual(10);
    expect(parts.join('').replace(/\s/g, '')).toBe(text.replace(/\s/g, ''));
    expect(parts[0]).toBe('第一句话很长很长。');
  });

  it('cuts a sentence longer than the limit by characters, never inside an emoji', () => {
    const parts = splitText('😀'.repeat(25), 10);
    expect(parts.map((p) => [...p].length)).toEqual([10, 10, 5]);
    expect(parts.join('')).toBe('😀'.repeat(25));
  });
});

describe('splitText by UTF-8 bytes', () => {
  it('keeps every part within 2048 bytes, cutting between characters', async () => {
    const { utf8Bytes } = await import('../../bot/text-split.ts');
    const text = `${'身份证丢失补领需要本人到场。'.repeat(120)}😀`;
    const parts = splitText(text, 2048, utf8Bytes);
    expect(parts.length).toBeGreaterThan(1);
    for (const p of parts) expect(Buffer.byteLength(p)).toBeLessThanOrEqual(2048);
    expect(parts.join('')).toBe(text);
  });
});
