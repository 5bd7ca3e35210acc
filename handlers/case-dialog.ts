/**
 * The case dialog (诉求登记): type, description (10+ characters), place (optional),
 * mobile (validated), name (optional), consent to be contacted, a summary to confirm, then
 * submission through the outbox. "取消" leaves at any step. The draft gets its own id when
 * the summary is shown: that id is the case's idempotency key. A draft much like a case the
 * citizen submitted minutes ago is first asked about: a new matter, or the same one?
 */
import { randomUUID } from 'node:crypto';
import type { CaseDraft, CaseStep } from '../bot/conversation-state.ts';
import type { Reply } from '../bot/messages.ts';
import { CASE_TYPES, type Case, type CaseType } from '../integrations/case-platform/types.ts';
import type { HandlerContext, HandlerOutput } from './handler.ts';
import { citizenTime, text } from './texts.ts';

const CANCEL = /^(取消|不用了|算了|退出|不办了|cancel)[!！。.]*$/i;
const MOBILE = /^(?:\+?86)?\s*(1[3-9]\d)[\s-]?(\d{4})[\s-]?(\d{4})$/;
const SKIP = 'case:skip';
const RESUBMIT_NEW = 'case:resubmit:new';
const RESUBMIT_SAME = 'case:resubmit:same';

const ask = (ctx: HandlerContext, step: CaseStep, draft: CaseDraft, replies: Reply[]): HandlerOutput => {
  // The case's identity is made once, with the summary: every 确认 of this draft is this case.
  if (step === 'confirm' && !draft.id) draft.id = randomUUID();
  ctx.state.awaiting = { kind: 'case', step, draft };
  return { replies, meta: { intent: 'case' } };
};

function prompt(step: CaseStep, draft: CaseDraft): Reply[] {
  switch (step) {
    case 'type':
      return [{ type: 'menu', head: text('case_type_head'), items: CASE_TYPES.map((t) => ({ id: `case:type:${t}`, label: t })) }];
    case 'description':
      return [{ type: 'text', text: text('case_description_prompt') }];
    case 'place':
      return [{ type: 'menu', head: text('case_place_prompt'), items: [{ id: SKIP, label: text('case_skip') }] }];
    case 'mobile':
      return [{ type: 'text', text: text('case_mobile_prompt') }];
    case 'name':
      return [{ type: 'menu', head: text('case_name_prompt'), items: [{ id: SKIP, label: text('case_skip') }] }];
    case 'consent':
      return [{ type: 'menu', head: text('case_consent_head'), items: [{ id: 'case:consent:yes', label: text('case_consent.yes') }, { id: 'case:consent:no', label: text('case_consent.no') }] }];
    case 'confirm': {
      const none = text('case_none');
      return [
        {
          type: 'menu',
          head: text('case_summary', {
            type: draft.type ?? none,
            description: draft.description ?? none,
            place: draft.place ?? none,
            mobile: draft.mobile ? `${draft.mobile.slice(0, 3)}****${draft.mobile.slice(7)}` : none,
            name: draft.name ?? none,
            consent: draft.consent ? text('case_consent.yes') : text('case_consent.no'),
          }),
          items: [{ id: 'case:submit', label: text('case_confirm.submit') }, { id: 'case:cancel', label: text('case_confirm.cancel') }],
        },
      ];
    }
    case 'resubmit':
      return [
        {
          type: 'menu',
          head: text('case_resubmit_head', { id: draft.similarTo ?? '' }),
          items: [{ id: RESUBMIT_NEW, label: text('case_resubmit.new') }, { id: RESUBMIT_SAME, label: text('case_resubmit.same') }],
        },
      ];
  }
}

/** The next step still missing from the draft. */
function nextStep(d: CaseDraft, done: CaseStep[]): CaseStep {
  if (!d.type) return 'type';
  if (!d.description) return 'description';
  if (!done.includes('place') && d.place === undefined) return 'place';
  if (!d.mobile) return 'mobile';
  if (!done.includes('name') && d.name === undefined) return 'name';
  if (d.consent === undefined) return 'consent';
  return 'confirm';
}

/**
 * Starts the dialog. A message that already says the type (我要投诉) or describes the
 * matter at length is used, so the citizen is not asked twice.
 */
export function startCase(ctx: HandlerContext, message?: string): HandlerOutput {
  const draft: CaseDraft = {};
  if (message) {
    const routed = ctx.deps.caseRouter.route(message);
    if (routed.type !== '咨询') draft.type = routed.type;
    if ([...message].length >= 15) draft.description = message;
  }
  const step = nextStep(draft, []);
  return ask(ctx, step, draft, prompt(step, draft));
}

/** One answer within the dialog (typed text or a menu id). */
export async function continueCase(ctx: HandlerContext, input: { text?: string; menuId?: string }): Promise<HandlerOutput> {
  const awaiting = ctx.state.awaiting;
  if (awaiting?.kind !== 'case') return startCase(ctx);
  const draft = { ...awaiting.draft };
  const typed = input.text?.trim() ?? '';
  // 不用了 answers "is it a new matter?" (the same one): it is not a plain cancel there.
  if (awaiting.step === 'resubmit') return answerResubmit(ctx, draft, input.menuId, typed);
  if (input.menuId === 'case:cancel' || CANCEL.test(typed)) {
    ctx.state.awaiting = undefined;
    return { replies: [{ type: 'text', text: text('case_cancelled') }], meta: { intent: 'case' } };
  }
  const skipped = input.menuId === SKIP || /^(跳过|不填|没有|无)$/.test(typed);
  const done: CaseStep[] = [];
  switch (awaiting.step) {
    case 'type': {
      const chosen = (input.menuId?.startsWith('case:type:') ? input.menuId.slice(10) : typed) as CaseType;
      if (!(CASE_TYPES as readonly string[]).includes(chosen)) return ask(ctx, 'type', draft, prompt('type', draft));
      draft.type = chosen;
      break;
    }
    case 'description':
      if ([...typed].length < 10) return ask(ctx, 'description', draft, [{ type: 'text', text: text('case_description_short') }]);
      draft.description = typed.slice(0, 2000);
      break;
    case 'place':
      draft.place = skipped || !typed ? '' : typed.slice(0, 200);
      done.push('place');
      break;
    case 'mobile': {
      const m = MOBILE.exec(typed.replace(/\s/g, ''));
      if (!m) return ask(ctx, 'mobile', draft, [{ type: 'text', text: text('case_mobile_bad') }]);
      draft.mobile = `${m[1]}${m[2]}${m[3]}`;
      break;
    }
    case 'name':
      draft.name = skipped || !typed ? '' : typed.slice(0, 50);
      done.push('name');
      break;
    case 'consent':
      if (input.menuId === 'case:consent:yes' || /^(同意|可以|好|是)/.test(typed)) draft.consent = true;
      else if (input.menuId === 'case:consent:no' || /^(不同意|不可以|不要|否)/.test(typed)) draft.consent = false;
      else return ask(ctx, 'consent', draft, prompt('consent', draft));
      break;
    case 'confirm':
      if (input.menuId === 'case:submit' || /^(确认|提交|确认提交|是|好)/.test(typed)) return confirmCase(ctx, draft);
      return ask(ctx, 'confirm', draft, prompt('confirm', draft));
  }
  const step = nextStep(draft, done);
  return ask(ctx, step, draft, prompt(step, draft));
}

const due = (c: Case, timeZone: string) => (c.dueAt ? citizenTime(c.dueAt, timeZone) : '近期');

/**
 * A repeat of the citizen's own open case is told as that case; a case of their own linked to
 * another citizen's (the same matter) is told with its own number only, never the other one.
 */
export function caseCreatedText(c: Case, timeZone: string): string {
  const key = !c.repeatOf ? 'case_submitted' : c.repeatOf === c.id ? 'case_repeat' : 'case_merged';
  return text(key, { id: c.id, unit: c.handlingUnit ?? '承办单位', due: due(c, timeZone) });
}

export function lateSubmittedText(reference: string, c: Case, timeZone: string): string {
  return text('case_late_submitted', { ref: reference, id: c.id, unit: c.handlingUnit ?? '承办单位', due: due(c, timeZone) });
}

/** Submits a confirmed draft, unless it looks like a case the citizen submitted minutes ago: then asks first. */
async function confirmCase(ctx: HandlerContext, draft: CaseDraft): Promise<HandlerOutput> {
  const { inbound, deps } = ctx;
  draft.id ??= randomUUID();
  const earlier = await deps.cases.similarRecent(inbound.channel, inbound.userId, draft.description!, caseKey(draft));
  if (!earlier) return submitCase(ctx, draft);
  draft.similarTo = earlier;
  return ask(ctx, 'resubmit', draft, prompt('resubmit', draft));
}

function answerResubmit(ctx: HandlerContext, draft: CaseDraft, menuId: string | undefined, typed: string): Promise<HandlerOutput> | HandlerOutput {
  // "The same one" is read first: 是同一件事 and 不是新问题 begin like a yes.
  const same = menuId === RESUBMIT_SAME || menuId === 'case:cancel' || (!menuId && (CANCEL.test(typed) || /同一|一样|重复|不用|不是|不要|算了|取消/.test(typed)));
  if (same) {
    ctx.state.awaiting = undefined;
    return { replies: [{ type: 'text', text: text('case_resubmit_same', { id: draft.similarTo ?? '' }) }], meta: { intent: 'case' } };
  }
  if (menuId === RESUBMIT_NEW || (!menuId && /^(是|新|继续|提交|确认)/.test(typed))) return submitCase(ctx, draft);
  return ask(ctx, 'resubmit', draft, prompt('resubmit', draft));
}

/** The outbox idempotency key of a draft: its own id, never a counter of the conversation. */
const caseKey = (draft: CaseDraft) => `case:${draft.id}`;

async function submitCase(ctx: HandlerContext, draft: CaseDraft): Promise<HandlerOutput> {
  const { inbound, state, deps } = ctx;
  state.awaiting = undefined;
  const citizenId = `${inbound.channel}:${inbound.userId}`;
  const result = await deps.cases.submit(
    {
      channel: inbound.channel,
      userId: inbound.userId,
      newCase: {
        type: draft.type!,
        description: draft.description!,
        ...(draft.place ? { place: draft.place } : {}),
        category: deps.caseRouter.route(draft.description!, draft.place).category,
        citizen: { id: citizenId, mobile: draft.mobile!, ...(draft.name ? { name: draft.name } : {}), consentToContact: Boolean(draft.consent) },
        channel: inbound.channel,
      },
    },
    caseKey(draft),
  );
  const reply =
    result.kind === 'submitted'
      ? caseCreatedText(result.case, ctx.deps.timeZone)
      : text(result.kind === 'invalid' ? 'case_invalid' : 'case_provisional', { ref: result.reference });
  return { replies: [{ type: 'text', text: reply }], meta: { intent: 'case' } };
}
