/**
 * An OpenAI-compatible embeddings endpoint (bge-m3 behind vLLM or Ollama, DashScope
 * compatible mode…), configured by base URL, model and key alone.
 */
import { OpenAIEmbeddings } from '@langchain/openai';

export interface OpenAiEmbeddingsConfig {
  baseURL: string;
  model: string;
  apiKey?: string;
  dimensions?: number;
  timeoutMs?: number;
}

export function openAiCompatibleEmbeddings(c: OpenAiEmbeddingsConfig): OpenAIEmbeddings {
  return new OpenAIEmbeddings({
    model: c.model,
    // Local servers often need no key, but the client insists on one.
    apiKey: c.apiKey || 'not-needed',
    dimensions: c.dimensions,
    // Many compatible servers return empty vectors for base64.
    encodingFormat: 'float',
    batchSize: 64,
    maxRetries: 2,
    timeout: c.timeoutMs ?? 30_000,
    configuration: { baseURL: c.baseURL },
  });
}
