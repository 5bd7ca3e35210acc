/** Chooses the embeddings model from configuration: hashed n-grams offline, or an endpoint. */
import type { Config } from '../../bot/config.ts';
import type { EmbeddingsProvider } from '../knowledge-index.ts';
import { HashedNgramEmbeddings } from './hashed-embeddings.ts';

export const HASHED_DIMENSIONS = 1024;

export function embeddingsProvider(c: Config['embeddings']): EmbeddingsProvider {
  if (c.kind === 'openai') {
    return {
      id: `openai:${c.model}@${c.baseURL}${c.dimensions ? `:${c.dimensions}` : ''}`,
      // The OpenAI client is loaded only when configured: it costs ~120 ms of every start.
      create: async () => (await import('../../integrations/embeddings/openai-compatible.ts')).openAiCompatibleEmbeddings(c),
    };
  }
  return {
    id: `hashed-ngram-${HASHED_DIMENSIONS}`,
    create: () => new HashedNgramEmbeddings({ dimensions: HASHED_DIMENSIONS }),
  };
}
