/** Chooses the embeddings model from configuration: hashed n-grams offline, or an endpoint. */
import type { Config } from '../../bot/config.ts';
import { openAiCompatibleEmbeddings } from '../../integrations/embeddings/openai-compatible.ts';
import type { EmbeddingsProvider } from '../knowledge-index.ts';
import { HashedNgramEmbeddings } from './hashed-embeddings.ts';

export const HASHED_DIMENSIONS = 1024;

export function embeddingsProvider(c: Config['embeddings']): EmbeddingsProvider {
  if (c.kind === 'openai') {
    return {
      id: `openai:${c.model}@${c.baseURL}${c.dimensions ? `:${c.dimensions}` : ''}`,
      create: () => openAiCompatibleEmbeddings(c),
    };
  }
  return {
    id: `hashed-ngram-${HASHED_DIMENSIONS}`,
    create: () => new HashedNgramEmbeddings({ dimensions: HASHED_DIMENSIONS }),
  };
}
