import { describe, expect, it } from 'vitest';
import { WecomCrypto, WecomCryptoError } from '../../../integrations/wecom/crypto.ts';
import { readEnvelope, readEvent } from '../../../integrations/wecom/envelope.ts';

// Tencent's public test vector (shared/docs/wecom.md).
const crypto = new WecomCrypto('hJqcu3uJ9Tn2gXPmxx2w9kkCkCE2EPYo', '6qkdMrq68nTKduznJYO1A37W2oEgpkMUvkttRToqhUt', 'ww1436e0e65a779aee');
const echostr = 'fsi1xnbH4yQh0+PJxcOdhhK6TDXkjMyhEPA7xB2TGz6b+g7xyAbEkRxN/3cNXW9qdqjnoVzEtpbhnFyq6SVHyA==';
const postEncrypt =
  'Kl7kjoSf6DMD1zh7rtrHjFaDapSCkaOnwu3bqLc5tAybhhMl9pFeK8NslNPVdMwmBQTNoW4mY7AIjeLvEl3NyeTkAgGzBhzTtRLNshw2AEew+kkYcD+Fq72Kt00fT0WnN87hGrW8SqGc+NcT3mu87Ha3dz1pSDi6GaUA6A0sqfde0VJPQbZ9U+3JWcoD4Z5jaU0y9GSh010wsHF8KZD24YhmZH4ch4Ka7ilEbjbfvhKkNL65HHL0J6EYJIZUC2pFrdkJ7MhmEbU2qARR4iQHE7wy24qy0cRX3Mfp6iELcDNfSsPGjUQVDGxQDCWjayJOpcwocugux082f49HKYg84EpHSGXAyh+/oxwaWbvL6aSDPOYuPDGOCI8jmnKiypE+';

describe('WeCom callback crypto', () => {
  it('verifies and decrypts the public GET test vector', () => {
    expect(crypto.verify('012bc692d0a58dd4b10f8dfe5c4ac00ae211ebeb', '1476416373', '47744683', echostr)).toBe(true);
    expect(crypto.decrypt(echostr)).toBe('1288432023552776189');
  });

  it('refuses a tampered signature', () => {
    expect(crypto.verify('012bc692d0a58dd4b10f8dfe5c4ac00ae211ebec', '1476416373', '47744683', echostr)).toBe(false);
    expect(crypto.verify('012bc692d0a58dd4b10f8dfe5c4ac00ae211ebeb', '1476416374', '47744683', echostr)).toBe(false);
    expect(crypto.verify('', '1476416373', '47744683', echostr)).toBe(false);
  });

  it('verifies and decrypts the public POST sample (32-byte padding)', () => {
    expect(crypto.verify('0c3914025cb4b4d68103f6bfc8db550f79dcf48e', '1476422779', '1597212914', postEncrypt)).toBe(true);
    const xml = crypto.decrypt(postEncrypt);
    expect(xml).toContain('<Content>你好</Content>');
    expect(xml).toContain('1456453720');
  });

  it('round-trips its own encryption, with the receiveId checked', () => {
    const enc = crypto.encrypt('<xml><MsgType>event</MsgType><Event>kf_msg_or_event</Event><Token>T1</Token><OpenKfId>wk1</OpenKfId></xml>');
    expect(readEvent(crypto.decrypt(enc))).toMatchObject({ msgType: 'event', event: 'kf_msg_or_event', token: 'T1', openKfId: 'wk1' });
    const other = new WecomCrypto('t', '6qkdMrq68nTKduznJYO1A37W2oEgpkMUvkttRToqhUt', 'another-corp');
    expect(() => other.decrypt(enc)).toThrow(/receiveId/);
    expect(() => crypto.decrypt('AAAA')).toThrow(WecomCryptoError);
    expect(() => new WecomCrypto('t', 'short', 'c')).toThrow(/43 base64/);
  });

  it('reads only Encrypt from the envelope, and refuses what is not one', () => {
    const xml = `<xml><ToUserName><![CDATA[ww1436e0e65a779aee]]></ToUserName><Encrypt><![CDATA[${postEncrypt}]]></Encrypt><AgentID><![CDATA[218]]></AgentID></xml>`;
    expect(readEnvelope(xml).encrypt).toBe(postEncrypt);
    expect(() => readEnvelope('<xml><ToUserName>x</ToUserName></xml>')).toThrow(/no Encrypt/);
    expect(() => readEnvelope('not xml <<<')).toThrow();
  });
});
