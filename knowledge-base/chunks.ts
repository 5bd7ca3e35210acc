/**
 * Guides → retrieval chunks: the item's names, each 相似问, each section, and each 情形's
 * materials. A chunk carries what an answer needs to name its source.
 */
import type { Guide, SectionName } from './guide.ts';
import { SECTION_NAMES } from './guide.ts';

export type ChunkKind = 'title' | 'profile' | 'question' | 'section' | 'situation';

export interface Chunk {
  id: number;
  itemId: string;
  itemName: string;
  category: string;
  kind: ChunkKind;
  /**
   * The guide section the text comes from; 事项名称 for the names, 相似问 for one question,
   * 事项概要 for the item's profile (names, all 相似问 and 情形 together, so a short question
   * is matched against everything people call the item).
   */
  section: SectionName | '相似问' | '事项名称' | '事项概要';
  situation?: string;
  /** The text as written in the guide. */
  text: string;
}

export function chunkGuides(guides: Guide[]): Chunk[] {
  const chunks: Chunk[] = [];
  const push = (g: Guide, c: Omit<Chunk, 'id' | 'itemId' | 'itemName' | 'category'>) =>
    chunks.push({ id: chunks.length, itemId: g.id, itemName: g.name, category: g.category, ...c });
  for (const g of guides) {
    push(g, { kind: 'title', section: '事项名称', text: [g.name, ...g.aliases].join('；') });
    push(g, {
      kind: 'profile',
      section: '事项概要',
      text: [g.name, ...g.aliases, ...g.questions, ...g.situations.map((s) => s.name)].join('\n'),
    });
    for (const q of g.questions) push(g, { kind: 'question', section: '相似问', text: q });
    for (const s of SECTION_NAMES) push(g, { kind: 'section', section: s, text: g.sections[s] });
    for (const s of g.situations) {
      push(g, {
        kind: 'situation',
        section: '所需材料',
        situation: s.name,
        text: `情形：${s.name}\n${s.materials.map((m) => `- ${m}`).join('\n')}`,
      });
    }
  }
  return chunks;
}

/** The text that is tokenised and embedded: sections carry the item's name for context. */
export function indexTextOf(c: Chunk): string {
  switch (c.kind) {
    case 'title':
    case 'profile':
    case 'question':
      return c.text;
    case 'situation':
      return `${c.itemName} ${c.text}`;
    case 'section':
      return `${c.itemName} ${c.section}\n${c.text}`;
  }
}
