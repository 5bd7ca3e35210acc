/**
 * Optional LLM composition: the model may rephrase the chosen answer units into one short
 * reply; the reply is sent only when the grounding guard finds every fact in the units it
 * cites. Anything else — guard failure, too long, timeout, error, no model — sends the
 * extractive answer. Emergencies, cases, progress and ratings must never reach this (the
 * caller decides what is composed).
 */
import { ChatClientError, type ChatClient, type ChatMessage } from './chat-client.ts';
import { checkGrounding, type GroundingTerms } from './grounding-guard.ts';

export interface ComposeUnit {
  n: number;
  text: string;
  /** Shown in the 来源 line, e.g. 《普通护照首次申领》办事指南·收费标准. */
  source: string;
}

export interface ComposeInput {
  question: string;
  units: ComposeUnit[];
  extractive: string;
  lang: 'zh' | 'en';
}

export interface GuardVerdict {
  used: 'llm' | 'extractive';
  reason: 'ok' | 'disabled' | 'ungrounded' | 'timeout' | 'error' | 'too_long';
  unsupported?: string[];
  ms: number;
}

export interface ComposeDeps {
  client: ChatClient | null;
  terms: GroundingTerms;
  log: (verdict: GuardVerdict) => void;
}

/** Longest reply (without citation markers and 来源 line) that is sent; the prompt asks for 150. */
export const MAX_REPLY_CHARS = 300;
const MAX_TOKENS = 300;
const REFUSAL = /^(无法回答|cannot answer)[。.!！]?$/i;

const PROMPTS = {
  zh: {
    system:
      '你是公安政务服务智能客服“小安”。只能依据用户消息中编号的办事指南原文回答，不得加入原文没有的任何信息，' +
      '尤其是费用、时限、日期、电话、材料和办理渠道，数字照原文写。先直接回答问题，再补充必要说明，全文不超过150字。' +
      '每句话后用方括号标注所依据的原文编号，例如[1]或[1][2]。不要写“来源”，不要使用Markdown。' +
      '原文不能回答问题时，只回复：无法回答。',
    user: (q: string, units: string) => `问题：${q}\n\n办事指南原文：\n${units}`,
    sources: '来源：',
    join: '；',
  },
  en: {
    system:
      'You are Xiao An, the public-security government-services assistant. Answer only from the numbered guide ' +
      'excerpts in the user message; add nothing they do not say, above all no fee, time limit, date, phone number, ' +
      'material or channel, and copy numbers as written. Lead with the direct answer; at most 40 words. After each ' +
      'sentence cite the excerpt it is based on in square brackets, e.g. [1] or [1][2]. Do not write a "Sources" line; ' +
      'no Markdown. If the excerpts do not answer the question, reply only: cannot answer.',
    user: (q: string, units: string) => `Question: ${q}\n\nGuide excerpts:\n${units}`,
    sources: 'Sources: ',
    join: '; ',
  },
} as const;

/** The chat request: a system prompt and the question with the numbered units. */
export function buildMessages(input: Pick<ComposeInput, 'question' | 'units' | 'lang'>): ChatMessage[] {
  const p = PROMPTS[input.lang];
  const units = input.units.map((u) => `[${u.n}] ${u.text}`).join('\n');
  return [
    { role: 'system', content: p.system },
    { role: 'user', content: p.user(input.question, units) },
  ];
}

/** The reply without [n] markers and without any 来源 line the model wrote anyway. */
export function stripCitations(reply: string): string {
  return reply
    .replace(/[ \t]*[[【]\d{1,2}(?:\s*[,，、]\s*\d{1,2})*[\]】]/g, '')
    .split('\n')
    .filter((l) => !/^\s*(来源|出处|Sources?)\s*[:：]/i.test(l))
    .join('\n')
    .replace(/[ \t]+([，。；：！？,.;:!?])/g, '$1')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}

export async function composeAnswer(input: ComposeInput, deps: ComposeDeps): Promise<{ text: string; verdict: GuardVerdict }> {
  const started = performance.now();
  const done = (text: string, v: Omit<GuardVerdict, 'ms'>) => {
    const verdict: GuardVerdict = { ...v, ms: Math.round(performance.now() - started) };
    try {
      deps.log(verdict);
    } catch {
      // A broken logger must not lose the citizen's answer.
    }
    return { text, verdict };
  };
  const extractive = (reason: GuardVerdict['reason'], unsupported?: string[]) =>
    done(input.extractive, unsupported ? { used: 'extractive', reason, unsupported } : { used: 'extractive', reason });

  // Nothing to ground a reply in: the model is not asked.
  if (!deps.client || !input.units.length) return extractive('disabled');

  let reply: string;
  try {
    reply = await deps.client.complete(buildMessages(input), { maxTokens: MAX_TOKENS });
  } catch (e) {
    return extractive(e instanceof ChatClientError && e.kind === 'timeout' ? 'timeout' : 'error');
  }

  try {
    const g = checkGrounding(reply, input.units, deps.terms);
    if (!g.ok) return extractive('ungrounded', g.unsupported);
    const body = stripCitations(reply);
    // Only markers, or the refusal the prompt asks for: nothing worth sending instead of the extract.
    if (!body || REFUSAL.test(body)) return extractive('ungrounded', []);
    if ([...body].length > MAX_REPLY_CHARS) return extractive('too_long');
    const p = PROMPTS[input.lang];
    const sources = [...new Set(g.citations.map((n) => input.units.find((u) => u.n === n)!.source))];
    return done(`${body}\n${p.sources}${sources.join(p.join)}`, { used: 'llm', reason: 'ok' });
  } catch {
    return extractive('error');
  }
}
