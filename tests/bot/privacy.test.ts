import { describe, expect, it } from 'vitest';
import { maskPersonalNumbers } from '../../bot/privacy.ts';

describe('maskPersonalNumbers', () => {
  it('masks 18-digit ID numbers, including a final X', () => {
    expect(maskPersonalNumbers('身份证号11010519491231002X')).toBe('身份证号110105********002X');
    expect(maskPersonalNumbers('号码 440301199001011234。')).toBe('号码 440301********1234。');
  });

  it('masks mobile numbers in common spellings', () => {
    expect(maskPersonalNumbers('电话13812345678')).toBe('电话138****5678');
    expect(maskPersonalNumbers('+86 138-1234-5678')).toBe('138****5678');
  });

  it('leaves other numbers alone', () => {
    expect(maskPersonalNumbers('工本费40元，12345热线，交管12123')).toBe('工本费40元，12345热线，交管12123');
  });
});
