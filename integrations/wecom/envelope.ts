/** The XML of WeCom callbacks: the encrypted envelope and the decrypted event inside. */
import { XMLParser } from 'fast-xml-parser';

const parser = new XMLParser({ ignoreAttributes: true, parseTagValue: false, trimValues: true, processEntities: false });

export class EnvelopeError extends Error {}

/** Reads <xml><Encrypt>…</Encrypt></xml>; only Encrypt is used. */
export function readEnvelope(xml: string): { encrypt: string } {
  let doc: { xml?: { Encrypt?: unknown } };
  try {
    doc = parser.parse(xml) as typeof doc;
  } catch (e) {
    throw new EnvelopeError(`not XML: ${(e as Error).message}`);
  }
  const encrypt = doc.xml?.Encrypt;
  if (typeof encrypt !== 'string' || !encrypt) throw new EnvelopeError('no Encrypt element');
  return { encrypt };
}

export interface KfEvent {
  toUserName?: string;
  createTime?: string;
  msgType: string;
  event?: string;
  token?: string;
  openKfId?: string;
}

/** The decrypted callback: for 微信客服 an event kf_msg_or_event with a Token and OpenKfId. */
export function readEvent(xml: string): KfEvent {
  const doc = parser.parse(xml) as { xml?: Record<string, string> };
  const x = doc.xml;
  if (!x?.MsgType) throw new EnvelopeError('decrypted message has no MsgType');
  return { toUserName: x.ToUserName, createTime: x.CreateTime, msgType: x.MsgType, event: x.Event, token: x.Token, openKfId: x.OpenKfId };
}
