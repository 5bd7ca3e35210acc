import { describe, expect, it } from 'vitest';
import { mayHoldPersonalNumber, maskPersonalNumbers } from '../../bot/privacy.ts';

describe('maskPersonalNumbers', () => {
  it('masks 18-digit ID numbers, including a final X', () => {
    expect(maskPersonalNumbers('身份证号11010519491231002X')).toBe('身份证号110105********002X');
    expect(maskPersonalNumbers('号码 440301199001011234。')).toBe('号码 440301********1234。');
  });

  it('masks ID numbers typed with full-width digits, spaces, dots or dashes', () => {
    expect(maskPersonalNumbers('身份证４４０３０１１９９００１０１１２３４')).toBe('身份证440301********1234');
    expect(maskPersonalNumbers('证件 440301 19900101 1234 号')).toBe('证件 440301********1234 号');
    expect(maskPersonalNumbers('440301.1990.0101.123x')).toBe('440301********123X');
    expect(maskPersonalNumbers('老身份证440301900101123')).toBe('老身份证440301******123');
  });

  it('masks mobile numbers in common spellings', () => {
    expect(maskPersonalNumbers('电话13812345678')).toBe('电话138****5678');
    expect(maskPersonalNumbers('+86 138-1234-5678')).toBe('138****5678');
    expect(maskPersonalNumbers('手机 138.1234.5678 谢谢')).toBe('手机 138****5678 谢谢');
    expect(maskPersonalNumbers('手机１３８１２３４５６７８')).toBe('手机138****5678');
    expect(maskPersonalNumbers('138 1234 5678')).toBe('138****5678');
  });

  it('masks bank card numbers', () => {
    expect(maskPersonalNumbers('卡号6222 0212 3456 7890 123')).toBe(`卡号${'*'.repeat(15)}0123`);
    expect(maskPersonalNumbers('转账到6217000010001234567')).toBe(`转账到${'*'.repeat(15)}4567`);
  });

  it('leaves other numbers and the text around them alone', () => {
    expect(maskPersonalNumbers('工本费40元，12345热线，交管12123')).toBe('工本费40元，12345热线，交管12123');
    expect(maskPersonalNumbers('2026年12月2日 9:00–17:00，１２３４５')).toBe('2026年12月2日 9:00–17:00，１２３４５');
    expect(maskPersonalNumbers('ＡＢＣ，全角逗号，保持原样')).toBe('ＡＢＣ，全角逗号，保持原样');
  });
});

describe('mayHoldPersonalNumber (the log writes a line unparsed when it says no)', () => {
  const masked = ['身份证号11010519491231002X', '证件 440301 19900101 1234 号', '440301.1990.0101.123x', '老身份证440301900101123', '+86 138-1234-5678', '手机１３８１２３４５６７８', '138 1234 5678', '卡号6222 0212 3456 7890 123', '{"n":13812345678}'];
  const plain = ['工本费40元，12345热线，交管12123', '{"time":"2026-12-03T16:01:19.088Z","pid":12345,"ms":3.2}', '2026年12月2日 9:00–17:00'];

  it('says yes for every text maskPersonalNumbers changes, and no for ordinary numbers', () => {
    for (const t of masked) {
      expect(maskPersonalNumbers(t), t).not.toBe(t);
      expect(mayHoldPersonalNumber(t), t).toBe(true);
    }
    for (const t of plain) expect(mayHoldPersonalNumber(t), t).toBe(false);
  });
});
