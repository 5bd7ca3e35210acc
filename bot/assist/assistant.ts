/**
 * 热线助手: hotline staff (or a hotline system) send what the caller says, one utterance at
 * a time; the assistant reads it with the call's context, suggests what to say, and records
 * the utterance. Utterances of one call are handled one at a time, in arrival order (in this
 * process; across processes the last one written is the call's context).
 */
import type { Asker } from '../ask.ts';
import type { SerialLocks } from '../replicas/conversation-locks.ts';
import { KeyedQueue } from '../keyed-queue.ts';
import type { Database } from '../store/database.ts';
import type { KnowledgeBase } from '../../knowledge-base/knowledge-base.ts';
import { CALL_CONTEXT_TTL_MINUTES, loadCallContext } from './call-context.ts';
import { recordFeedback, recordUtterance, suggestionId, type FeedbackRecord, type FeedbackTarget, type Verdict } from './store.ts';
import { suggest, type AssistEmergency, type SuggestionDraft } from './suggestions.ts';
import type { Intent } from '../understand/rule-intent.ts';

export interface Suggestion extends SuggestionDraft {
  /** For feedback: POST /api/assist/feedback {suggestionId}. */
  id: string;
}

export interface AssistReply {
  callId: string | null;
  /** Increases with every utterance: of two replies for one call, the higher is the newer. */
  utteranceId: number;
  intent: Intent;
  suggestions: Suggestion[];
  emergency: AssistEmergency | null;
  unanswered: boolean;
  notice: string | null;
}

export class HotlineAssistant {
  private readonly calls = new KeyedQueue();

  constructor(private readonly o: { db: Database; kb: KnowledgeBase; asker: Asker; ttlMinutes?: number; locks?: SerialLocks }) {}

  /**
   * One utterance; without a call id it is read on its own and leaves no context behind. One
   * call's utterances are read one at a time, in order, also across replicas.
   */
  assist(u: { text: string; callId?: string; actor: string }): Promise<AssistReply> {
    const run = () => this.handle(u);
    const { callId } = u;
    if (!callId) return run();
    const locks = this.o.locks;
    return this.calls.run(callId, locks ? () => locks.hold(`call:${callId}`, () => run()) : run);
  }

  private async handle(u: { text: string; callId?: string; actor: string }): Promise<AssistReply> {
    const { db, kb, asker } = this.o;
    const ttl = this.o.ttlMinutes ?? CALL_CONTEXT_TTL_MINUTES;
    const context = u.callId ? await loadCallContext(db, u.callId, ttl) : {};
    const outcome = await suggest({ kb, asker }, u.text, context);
    const callId = u.callId ?? null;
    const utteranceId = await recordUtterance(db, { callId, actor: u.actor, outcome, kbChecksum: kb.index.meta.checksum, kbRelease: kb.release });
    return {
      callId,
      utteranceId,
      intent: outcome.intent,
      suggestions: outcome.suggestions.map((s, i) => ({ id: suggestionId(utteranceId, i + 1), ...s })),
      emergency: outcome.emergency,
      unanswered: outcome.unanswered,
      notice: outcome.notice,
    };
  }

  /** Staff's verdict on a suggestion; null when there is no such suggestion. */
  feedback(f: { target: FeedbackTarget; verdict: Verdict; editedText?: string; actor: string }): Promise<FeedbackRecord | null> {
    return recordFeedback(this.o.db, f, this.o.ttlMinutes ?? CALL_CONTEXT_TTL_MINUTES);
  }
}
