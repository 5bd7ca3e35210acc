import { describe, expect, it } from 'vitest';
import { signCallback, verifyCallback } from '../../../integrations/case-platform/signature.ts';

const secret = 'callback-secret';
const body = JSON.stringify({ eventId: 'e1', type: 'case.closed', caseId: 'C1' });

describe('callback signatures', () => {
  it('accepts what it signed', () => {
    const now = 1_795_000_000;
    const h = signCallback(secret, body, now);
    expect(h.signature).toMatch(/^sha256=[0-9a-f]{64}$/);
    expect(verifyCallback(secret, body, h, now + 10)).toEqual({ ok: true });
  });

  it('rejects a forged signature, a changed body, another secret and missing headers', () => {
    const now = 1_795_000_000;
    const h = signCallback(secret, body, now);
    expect(verifyCallback(secret, `${body} `, h, now)).toEqual({ ok: false, reason: 'mismatch' });
    expect(verifyCallback('other', body, h, now)).toEqual({ ok: false, reason: 'mismatch' });
    expect(verifyCallback(secret, body, { ...h, signature: `sha256=${'0'.repeat(64)}` }, now)).toEqual({ ok: false, reason: 'mismatch' });
    expect(verifyCallback(secret, body, { timestamp: h.timestamp }, now)).toEqual({ ok: false, reason: 'missing' });
    expect(verifyCallback(secret, body, { ...h, signature: 'md5=abc' }, now)).toEqual({ ok: false, reason: 'malformed' });
  });

  it('rejects timestamps more than 5 minutes away, in either direction', () => {
    const now = 1_795_000_000;
    expect(verifyCallback(secret, body, signCallback(secret, body, now - 301), now)).toEqual({ ok: false, reason: 'stale' });
    expect(verifyCallback(secret, body, signCallback(secret, body, now + 301), now)).toEqual({ ok: false, reason: 'stale' });
    expect(verifyCallback(secret, body, signCallback(secret, body, now - 299), now)).toEqual({ ok: true });
  });
});
