/** Images, voice, files and events get polite guidance; a location gets the nearest offices. */
import type { HandlerContext, HandlerOutput } from './handler.ts';
import { officeReplies } from './offices.ts';
import { welcomeMenu } from './menus.ts';
import { text } from './texts.ts';

export function handleNonText(ctx: HandlerContext): HandlerOutput {
  const { inbound } = ctx;
  if (inbound.kind === 'location' && inbound.location) {
    ctx.state.location = { lat: inbound.location.lat, lng: inbound.location.lng };
    return { replies: officeReplies(ctx, ctx.state.itemId, true), meta: { intent: 'non_text', aspect: 'place' } };
  }
  if (inbound.kind === 'event') return { replies: [welcomeMenu()], meta: { intent: 'non_text' } };
  const kind = inbound.kind === 'image' || inbound.kind === 'voice' || inbound.kind === 'file' ? inbound.kind : 'file';
  return { replies: [{ type: 'text', text: text(`non_text.${kind}`) }], meta: { intent: 'non_text' } };
}
