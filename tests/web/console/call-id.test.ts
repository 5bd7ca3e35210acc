/** The hotline page's call ids never look like a phone or ID number, at any time of day. */
import { describe, expect, it } from 'vitest';
import { maskPersonalNumbers } from '../../../bot/privacy.ts';
import { newCallId } from '../../../web/console/src/views/hotline/hotline.ts';

describe('hotline call ids', () => {
  it('are left alone by the masking at every minute of a day (the server refuses ids it would mask)', () => {
    for (let m = 0; m < 24 * 60; m++) {
      const id = newCallId(new Date(2026, 11, 2, Math.floor(m / 60), m % 60, 59));
      expect(maskPersonalNumbers(id), id).toBe(id);
    }
  });
});
