/**
 * The channel-neutral contract of 小安: an inbound message in, replies and effects out.
 * Channels (web chat now, WeChat later) only translate to and from these types.
 */
import type { Aspect } from '../knowledge-base/lexicon.ts';
import type { Intent } from './understand/rule-intent.ts';

export type InboundKind = 'text' | 'menu' | 'image' | 'voice' | 'file' | 'location' | 'event';

export interface Inbound {
  channel: string;
  userId: string;
  kind: InboundKind;
  text?: string;
  /** The id of a menu item the citizen tapped. */
  menuId?: string;
  location?: { lat: number; lng: number; label?: string };
  /** For kind "event": enter_session, leave, … */
  event?: string;
  /**
   * The channel's own id of this message (WeCom's msgid). When given, the turn is recorded
   * as handled in the same write that saves it, and a message handled before is skipped.
   */
  messageId?: string;
}

export interface MenuItem {
  id: string;
  label: string;
}

export type Reply =
  | { type: 'text'; text: string }
  | { type: 'menu'; head: string; items: MenuItem[]; tail?: string }
  | { type: 'link'; title: string; url: string }
  | { type: 'card'; title: string; body: string; sources?: Source[] };

/** A reply's words as a transcript keeps them (a menu by its head, a link or card by its title). */
export const replyText = (r: Reply): string => (r.type === 'text' ? r.text : r.type === 'menu' ? r.head : r.title);

/** The items of the last menu among replies: what a typed "1" or "2" picks next. */
export function lastMenuItems(replies: Reply[]): MenuItem[] | undefined {
  const menu = [...replies].reverse().find((r) => r.type === 'menu');
  return menu?.type === 'menu' ? menu.items : undefined;
}

export interface Source {
  itemId: string;
  itemName: string;
  section: string;
}

/** Things a turn asks the outside world to do, applied by one place after the turn. */
export type Effect = { type: 'handoff_requested'; summary: HandoffSummary; queued: boolean };

export interface HandoffSummary {
  intent: string;
  item: { id: string; name: string } | null;
  /** The 情形 the citizen named for that item, if any. */
  situation?: string;
  lastQuestions: string[];
}

export interface TurnMeta {
  intent: Intent | 'menu' | 'non_text' | 'silent' | 'restart' | 'situation';
  item: { id: string; name: string } | null;
  candidates: Array<{ id: string; name: string; score: number }>;
  aspect: Aspect;
  sources: Source[];
}

export interface TurnResult extends TurnMeta {
  replies: Reply[];
  /**
   * The message (by its messageId) was handled before: nothing was done again; replies are
   * that turn's replies (masked as stored), and delivered says whether the channel sent them.
   */
  duplicate?: { delivered: boolean };
  effects: Effect[];
  conversation: { state: string; handedOver: boolean };
}
