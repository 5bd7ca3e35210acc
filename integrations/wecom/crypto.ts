/**
 * WeCom callback security (doc 91144, 96238): SHA-1 signature over the sorted
 * [token, timestamp, nonce, encrypt], and AES-256-CBC with the IV taken from the key,
 * PKCS#7 padding to a multiple of 32 bytes, and a plaintext of
 * 16 random bytes ‖ 4-byte big-endian length ‖ message ‖ receiveId.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes, timingSafeEqual } from 'node:crypto';

const BLOCK = 32;

export class WecomCryptoError extends Error {}

export class WecomCrypto {
  private readonly key: Buffer;
  private readonly iv: Buffer;

  constructor(
    private readonly token: string,
    encodingAesKey: string,
    private readonly receiveId: string,
  ) {
    if (!/^[A-Za-z0-9+/]{43}$/.test(encodingAesKey)) throw new WecomCryptoError('EncodingAESKey must be 43 base64 characters');
    this.key = Buffer.from(`${encodingAesKey}=`, 'base64');
    if (this.key.length !== 32) throw new WecomCryptoError('EncodingAESKey must decode to 32 bytes');
    this.iv = this.key.subarray(0, 16);
  }

  signature(timestamp: string, nonce: string, encrypt: string): string {
    return createHash('sha1').update([this.token, timestamp, nonce, encrypt].sort().join('')).digest('hex');
  }

  /** Constant-time check of a msg_signature. */
  verify(signature: string, timestamp: string, nonce: string, encrypt: string): boolean {
    const want = Buffer.from(this.signature(timestamp, nonce, encrypt));
    const given = Buffer.from(String(signature ?? ''));
    return given.length === want.length && timingSafeEqual(given, want);
  }

  decrypt(encrypt: string): string {
    let plain: Buffer;
    try {
      const decipher = createDecipheriv('aes-256-cbc', this.key, this.iv);
      // WeCom pads to 32 bytes, which Node's 16-byte auto-padding rejects: unpad by hand.
      decipher.setAutoPadding(false);
      plain = Buffer.concat([decipher.update(Buffer.from(encrypt, 'base64')), decipher.final()]);
    } catch (e) {
      throw new WecomCryptoError(`cannot decrypt: ${(e as Error).message}`);
    }
    const pad = plain[plain.length - 1] ?? 0;
    if (pad < 1 || pad > BLOCK || pad > plain.length) throw new WecomCryptoError('bad padding');
    const content = plain.subarray(16, plain.length - pad);
    if (content.length < 4) throw new WecomCryptoError('message too short');
    const length = content.readUInt32BE(0);
    if (4 + length > content.length) throw new WecomCryptoError('bad message length');
    const message = content.subarray(4, 4 + length).toString('utf8');
    const receiveId = content.subarray(4 + length).toString('utf8');
    if (receiveId !== this.receiveId) throw new WecomCryptoError('receiveId does not match this corp');
    return message;
  }

  encrypt(message: string, random = randomBytes(16)): string {
    const body = Buffer.from(message, 'utf8');
    const length = Buffer.alloc(4);
    length.writeUInt32BE(body.length, 0);
    const plain = Buffer.concat([random, length, body, Buffer.from(this.receiveId, 'utf8')]);
    const pad = BLOCK - (plain.length % BLOCK);
    const cipher = createCipheriv('aes-256-cbc', this.key, this.iv);
    cipher.setAutoPadding(false);
    return Buffer.concat([cipher.update(Buffer.concat([plain, Buffer.alloc(pad, pad)])), cipher.final()]).toString('base64');
  }
}
