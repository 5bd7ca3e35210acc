/** What every handler receives and returns. Handlers decide; the engine persists and sends. */
import type { Asker, AskResult } from '../bot/ask.ts';
import type { ConversationState } from '../bot/conversation-state.ts';
import type { Effect, Inbound, Reply, TurnMeta } from '../bot/messages.ts';
import type { KnowledgeBase } from '../knowledge-base/knowledge-base.ts';
import type { Office } from '../knowledge-base/offices.ts';
import type { CaseService } from '../bot/cases/service.ts';
import type { CaseRouter } from '../integrations/case-platform/desk/router.ts';
import type { Rephrasable, Rephraser } from './rephrase.ts';

export interface DialogDeps {
  kb: KnowledgeBase;
  asker: Asker;
  offices: Office[];
  /** Whether a human service channel takes hand-overs now ("queue"), or none is configured. */
  handoffMode: 'none' | 'queue';
  serviceHours: string;
  /** The bureau's time zone: the times told to citizens are in it. */
  timeZone: string;
  /** Whether it is within service hours now. */
  serviceOpen: () => boolean;
  cases: CaseService;
  caseRouter: CaseRouter;
  /** A chat model that may rephrase policy answers (LLM_BASE_URL); absent: answers are extractive. */
  rephraser?: Rephraser;
}

export interface HandlerContext {
  inbound: Inbound;
  /** This turn's copy of the state; handlers change it. */
  state: ConversationState;
  deps: DialogDeps;
}

export interface HandlerOutput {
  replies: Reply[];
  effects?: Effect[];
  meta?: Partial<TurnMeta>;
  /** Set when the turn hands the chat to a human. */
  handedOver?: boolean;
  /** How the question was understood, for the question log. */
  asked?: AskResult;
  /** The guide lines of a policy answer, which a chat model may rephrase. */
  rephrasable?: Rephrasable;
}
