/**
 * Optional LLM composition (off unless LLM_BASE_URL and LLM_MODEL are set). The caller sends
 * only policy answers here — never emergencies, cases, progress or ratings.
 */
import type { Config } from '../../bot/config.ts';
import { OpenAiChatClient, type ChatClient } from './chat-client.ts';

export { ChatClientError, OpenAiChatClient, DEFAULT_LLM_TIMEOUT_MS } from './chat-client.ts';
export type { ChatClient, ChatClientErrorKind, ChatClientOptions, ChatMessage } from './chat-client.ts';
export { checkGrounding, termsFromGuides, COMMON_CHANNELS, NO_CITATION } from './grounding-guard.ts';
export type { GroundingResult, GroundingTerms, GroundingUnit } from './grounding-guard.ts';
export { buildMessages, composeAnswer, MAX_REPLY_CHARS, stripCitations } from './compose.ts';
export type { ComposeDeps, ComposeInput, ComposeUnit, GuardVerdict } from './compose.ts';

/** The configured chat model, or null when LLM composition is off. */
export function createChatClient(llm: Config['llm']): ChatClient | null {
  return llm ? new OpenAiChatClient({ baseUrl: llm.baseUrl, model: llm.model, apiKey: llm.apiKey, timeoutMs: llm.timeoutMs }) : null;
}
