import { describe, expect, it } from 'vitest';
import { isOpen, parseServiceHours } from '../../bot/service-hours.ts';

// 2026-12-02 is a Wednesday; times are the bureau's (UTC+8).
const at = (iso: string) => new Date(`${iso}+08:00`);

describe('service hours', () => {
  it('reads the default and knows open from closed on the bureau clock', () => {
    const h = parseServiceHours('工作日 9:00–17:00');
    expect(isOpen(h, at('2026-12-02T09:00'))).toBe(true);
    expect(isOpen(h, at('2026-12-02T16:59'))).toBe(true);
    expect(isOpen(h, at('2026-12-02T17:00'))).toBe(false);
    expect(isOpen(h, at('2026-12-02T08:59'))).toBe(false);
    expect(isOpen(h, at('2026-12-05T10:00'))).toBe(false); // Saturday
    // 01:30 UTC is 09:30 in Beijing, whatever the machine's zone.
    expect(isOpen(h, new Date('2026-12-02T01:30:00Z'))).toBe(true);
  });

  it('reads other days, several ranges and around the clock', () => {
    const split = parseServiceHours('周一至周六 9:00-12:00、13:30～17:30');
    expect(isOpen(split, at('2026-12-05T10:00'))).toBe(true);
    expect(isOpen(split, at('2026-12-05T12:30'))).toBe(false);
    expect(isOpen(split, at('2026-12-06T10:00'))).toBe(false); // Sunday
    expect(isOpen(parseServiceHours('每天 8:30–20:00'), at('2026-12-06T19:59'))).toBe(true);
    expect(isOpen(parseServiceHours('7×24 小时'), at('2026-12-06T03:00'))).toBe(true);
  });

  it('refuses hours it cannot read', () => {
    expect(() => parseServiceHours('上班时间')).toThrow(/SERVICE_HOURS/);
    expect(() => parseServiceHours('工作日 17:00–9:00')).toThrow(/not a time range/);
  });
});
