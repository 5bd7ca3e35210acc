/** "我的诉求怎么样了": the status and latest step of the citizen's cases. */
import type { HandlerContext, HandlerOutput } from './handler.ts';
import { text } from './texts.ts';

export async function handleProgress(ctx: HandlerContext): Promise<HandlerOutput> {
  const { inbound, deps } = ctx;
  const cases = (await deps.cases.platform.listCases(`${inbound.channel}:${inbound.userId}`)).slice(0, 5);
  if (!cases.length) return { replies: [{ type: 'text', text: text('progress_none') }], meta: { intent: 'progress' } };
  const lines = cases.map((c) => {
    const last = c.steps?.at(-1);
    const when = last ? new Date(last.at).toLocaleString('zh-CN', { timeZone: 'Asia/Shanghai', month: 'numeric', day: 'numeric', hour: '2-digit', minute: '2-digit' }) : '';
    return text('progress_line', {
      id: c.id,
      type: c.type,
      category: c.category ?? '',
      status: text(`case_status.${c.status}`),
      step: last ? `${when} ${last.action}${last.note && c.status !== 'submitted' ? `：${last.note}` : ''}` : '—',
    });
  });
  return { replies: [{ type: 'text', text: `${text('progress_head')}\n${lines.join('\n')}` }], meta: { intent: 'progress' } };
}
