/**
 * Inbox events for the open consoles (server-sent events): a chat handed over, taken,
 * answered, missed, released, and a citizen writing in a chat a person holds. In-process;
 * several processes behind one database are the replicas issue's.
 */
import { Broadcast } from '../broadcast.ts';
import type { InboxItem } from './inbox.ts';

export type InboxPush =
  | { type: 'handoff'; action: string; item: InboxItem }
  | { type: 'message'; handoffId: number | null; channel: string; userId: string; text: string | null; at: string };

export class InboxHub extends Broadcast<InboxPush> {}
