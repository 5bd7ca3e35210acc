/**
 * Signed callbacks between 小安 and a case platform: HMAC-SHA256 over
 * "<unix seconds>.<raw body>", sent as X-Timestamp and X-Signature: sha256=<hex>.
 * Verification is constant-time and refuses timestamps more than 5 minutes away.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export const MAX_SKEW_SECONDS = 300;

export function signCallback(secret: string, body: string, timestamp = Math.floor(Date.now() / 1000)): { timestamp: string; signature: string } {
  const hex = createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex');
  return { timestamp: String(timestamp), signature: `sha256=${hex}` };
}

export type SignatureCheck = { ok: true } | { ok: false; reason: 'missing' | 'malformed' | 'stale' | 'mismatch' };

export function verifyCallback(
  secret: string,
  body: string,
  headers: { timestamp?: string | null; signature?: string | null },
  nowSeconds = Math.floor(Date.now() / 1000),
): SignatureCheck {
  const { timestamp, signature } = headers;
  if (!timestamp || !signature) return { ok: false, reason: 'missing' };
  if (!/^\d{1,12}$/.test(timestamp) || !/^sha256=[0-9a-f]{64}$/.test(signature)) return { ok: false, reason: 'malformed' };
  if (Math.abs(nowSeconds - Number(timestamp)) > MAX_SKEW_SECONDS) return { ok: false, reason: 'stale' };
  const expected = Buffer.from(signCallback(secret, body, Number(timestamp)).signature);
  const given = Buffer.from(signature);
  return given.length === expected.length && timingSafeEqual(given, expected) ? { ok: true } : { ok: false, reason: 'mismatch' };
}
