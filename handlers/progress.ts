/** "我的诉求怎么样了": the status and latest step of the citizen's cases. */
import type { HandlerContext, HandlerOutput } from './handler.ts';
import { citizenTime, text } from './texts.ts';
import type { CaseStep } from '../integrations/case-platform/types.ts';

/**
 * The latest step as the citizen may see it: its action, and its note only for the reply
 * (written to them); other notes are staff working notes.
 */
function citizenStep(steps: CaseStep[] | undefined): CaseStep | undefined {
  const last = steps?.filter((s) => !s.internal).at(-1);
  return last && (last.action === '答复' ? last : { ...last, note: undefined });
}

export async function handleProgress(ctx: HandlerContext): Promise<HandlerOutput> {
  const { inbound, deps } = ctx;
  const cases = (await deps.cases.platform.listCases(`${inbound.channel}:${inbound.userId}`)).slice(0, 5);
  if (!cases.length) return { replies: [{ type: 'text', text: text('progress_none') }], meta: { intent: 'progress' } };
  const lines = cases.map((c) => {
    const last = citizenStep(c.steps);
    const when = last ? citizenTime(last.at, deps.timeZone) : '';
    return text('progress_line', {
      id: c.id,
      type: c.type,
      category: c.category ?? '',
      status: text(`case_status.${c.status}`),
      step: last ? `${when} ${last.action}${last.note ? `：${last.note}` : ''}` : '—',
    });
  });
  return { replies: [{ type: 'text', text: `${text('progress_head')}\n${lines.join('\n')}` }], meta: { intent: 'progress' } };
}
