/** Where to go: offices from the office data, nearest first when the citizen shared a place. */
import type { Reply } from '../bot/messages.ts';
import { findOffices } from '../knowledge-base/offices.ts';
import type { HandlerContext } from './handler.ts';
import { text } from './texts.ts';

export function officeReplies(ctx: HandlerContext, itemId: string | undefined, nearest: boolean): Reply[] {
  const near = nearest ? ctx.state.location : undefined;
  // fw-01 is the office finder itself: any office will do.
  const forItem = itemId && itemId !== 'fw-01' ? itemId : undefined;
  const offices = findOffices(ctx.deps.offices, { itemId: forItem, near, limit: near ? 3 : 5 });
  if (!offices.length) return [];
  const lines = offices.map((o) =>
    text('office_line', {
      name: o.name,
      address: o.address,
      hours: o.hours,
      phone: o.phone,
      distance: o.km !== undefined ? text('office_distance', { km: o.km.toFixed(1) }) : '',
    }),
  );
  return [{ type: 'text', text: `${text(near ? 'offices_near_head' : 'offices_head')}\n${lines.join('\n')}\n${text('offices_note')}` }];
}
