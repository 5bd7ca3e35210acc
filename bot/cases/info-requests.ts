/**
 * A question from the handling unit to the citizen of a case, sent through the chat the case
 * came from: told now if the chat is open, else kept and told at their next message. Either
 * way their next message answers it (handlers/case-info.ts) and is attached to the case.
 */
import type { DialogEngine } from '../engine.ts';
import type { Database } from '../store/database.ts';
import { caseLink } from './store.ts';
import { text } from '../../handlers/texts.ts';

export type Asked = 'told' | 'kept' | 'no_chat';

export async function askCitizen(db: Database, engine: DialogEngine, r: { caseId: string; requestId: number; question: string }): Promise<Asked> {
  const link = await caseLink(db, r.caseId);
  if (!link) return 'no_chat';
  const told = await engine.notify(link.channel, link.userId, [{ type: 'text', text: text('case_info_request', { id: r.caseId, question: r.question }) }], {
    awaiting: { kind: 'case_info', caseId: r.caseId, requestId: r.requestId },
    keep: true,
  });
  return told ? 'told' : 'kept';
}
