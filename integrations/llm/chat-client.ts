/**
 * A minimal client for an OpenAI-compatible chat model (vLLM, Ollama, DashScope compatible
 * mode…): one POST {baseUrl}/chat/completions, no retries, a hard timeout. A chat turn cannot
 * wait for a second try: on any failure the caller sends the extractive answer.
 */

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

export interface ChatClient {
  /** The first choice's text; throws ChatClientError on a timeout or any failure. */
  complete(messages: ChatMessage[], options?: { maxTokens?: number }): Promise<string>;
}

export interface ChatClientOptions {
  baseUrl: string;
  model: string;
  apiKey?: string;
  /** Whole request, body included. */
  timeoutMs?: number;
  maxTokens?: number;
}

export type ChatClientErrorKind = 'timeout' | 'network' | 'http' | 'malformed' | 'empty';

export class ChatClientError extends Error {
  constructor(
    readonly kind: ChatClientErrorKind,
    message: string,
    /** HTTP status when the endpoint answered. */
    readonly status?: number,
  ) {
    super(message);
    this.name = 'ChatClientError';
  }
}

export const DEFAULT_LLM_TIMEOUT_MS = 2_000;
const DEFAULT_MAX_TOKENS = 300;

const isTimeout = (e: unknown) => e instanceof Error && (e.name === 'TimeoutError' || e.name === 'AbortError');

export class OpenAiChatClient implements ChatClient {
  private readonly url: string;
  constructor(private readonly o: ChatClientOptions) {
    this.url = `${o.baseUrl.replace(/\/+$/, '')}/chat/completions`;
  }

  async complete(messages: ChatMessage[], options: { maxTokens?: number } = {}): Promise<string> {
    const timeoutMs = this.o.timeoutMs ?? DEFAULT_LLM_TIMEOUT_MS;
    // One signal for connect, headers and body: a server that stalls mid-body still times out.
    const signal = AbortSignal.timeout(timeoutMs);
    const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json' };
    if (this.o.apiKey) headers.authorization = `Bearer ${this.o.apiKey}`;
    const body = JSON.stringify({
      model: this.o.model,
      messages,
      temperature: 0,
      max_tokens: options.maxTokens ?? this.o.maxTokens ?? DEFAULT_MAX_TOKENS,
      stream: false,
    });

    let text: string;
    let status: number;
    try {
      const res = await fetch(this.url, { method: 'POST', headers, body, signal });
      status = res.status;
      text = await res.text();
    } catch (e) {
      if (isTimeout(e) || signal.aborted) throw new ChatClientError('timeout', `chat model did not answer within ${timeoutMs} ms`);
      // The cause, not the request: no header (and so no key) is in the message.
      throw new ChatClientError('network', `chat model unreachable: ${(e as Error).cause instanceof Error ? ((e as Error).cause as Error).message : (e as Error).message}`);
    }
    if (status < 200 || status > 299) throw new ChatClientError('http', `chat model answered ${status}: ${text.slice(0, 200)}`, status);

    let data: unknown;
    try {
      data = JSON.parse(text);
    } catch {
      throw new ChatClientError('malformed', 'chat model answered with malformed JSON', status);
    }
    const choices = (data as { choices?: unknown } | null)?.choices;
    if (!Array.isArray(choices)) throw new ChatClientError('malformed', 'chat model answer has no choices array', status);
    const content = (choices[0] as { message?: { content?: unknown } } | undefined)?.message?.content;
    if (typeof content !== 'string' || !content.trim()) throw new ChatClientError('empty', 'chat model answered with no text', status);
    return content.trim();
  }
}
