/**
 * The citizen answers a question the handling unit asked through the chat (补充情况): their
 * next message is attached to the case, masked; "取消" leaves it; a menu choice moves on.
 */
import type { HandlerContext, HandlerOutput } from './handler.ts';
import { text } from './texts.ts';

const DECLINE = /^(取消|不补充了?|不用了|算了|没有了?)[。.!！]?$/;

export async function answerCaseInfo(ctx: HandlerContext, message: string): Promise<HandlerOutput> {
  const a = ctx.state.awaiting;
  if (a?.kind !== 'case_info') throw new Error('answerCaseInfo outside a request for information');
  ctx.state.awaiting = undefined;
  if (DECLINE.test(message)) return { replies: [{ type: 'text', text: text('case_info_declined') }], meta: { intent: 'case' } };
  const attach = ctx.deps.cases.platform.answerInfoRequest;
  const attached = attach ? await attach(a.caseId, a.requestId, message) : false;
  return { replies: [{ type: 'text', text: text(attached ? 'case_info_received' : 'case_info_done', { id: a.caseId }) }], meta: { intent: 'case' } };
}
