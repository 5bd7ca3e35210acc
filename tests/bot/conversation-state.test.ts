/** A release may remove an item between two turns: the conversation forgets what it no longer has. */
import { describe, expect, it } from 'vitest';
import { forgetUnknownItems, freshState, type ConversationState } from '../../bot/conversation-state.ts';

const has = (id: string) => id !== 'gone';

describe('forgetUnknownItems', () => {
  it('keeps a state whose items all exist, as it is', () => {
    const s: ConversationState = { ...freshState(), itemId: 'sfz-01', aspect: 'fees', awaiting: { kind: 'situation', itemId: 'sfz-01', aspect: 'fees' } };
    expect(forgetUnknownItems(s, has)).toBe(s);
  });

  it('forgets a removed item, its pending 情形 and a clarification naming it; keeps the rest', () => {
    const s: ConversationState = { ...freshState(), itemId: 'gone', aspect: 'fees', situation: '本地', recent: ['a'], awaiting: { kind: 'situation', itemId: 'gone', aspect: 'fees' }, menu: [{ id: 'item:gone', label: 'x' }] };
    const out = forgetUnknownItems(s, has);
    expect(out).toMatchObject({ recent: ['a'] });
    expect(out.itemId).toBeUndefined();
    expect(out.awaiting).toBeUndefined();
    expect(out.menu).toBeUndefined();
    const clarify: ConversationState = { ...freshState(), itemId: 'sfz-01', awaiting: { kind: 'clarify', candidates: ['sfz-01', 'gone'] } };
    expect(forgetUnknownItems(clarify, has)).toMatchObject({ itemId: 'sfz-01', awaiting: undefined });
    // A case draft is not about an item: it stays.
    const draft: ConversationState = { ...freshState(), itemId: 'gone', awaiting: { kind: 'case', step: 'mobile', draft: { id: 'd1' } as never } };
    expect(forgetUnknownItems(draft, has).awaiting).toMatchObject({ kind: 'case' });
  });
});
