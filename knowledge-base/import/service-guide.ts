/**
 * A bureau's service guide (办事指南) as a Word or PDF file, turned into the guide schema for
 * an editor to review field by field before it becomes a draft: the text is read by mammoth
 * (.docx) or unpdf (.pdf); its headings are matched to the eight sections by the names
 * bureaus use for them (申请材料 → 所需材料, 承诺时限 → 办理时限 …); 情形 are the numbered
 * sub-lists of the materials (情形一：…). Lines the parser could not place are returned, not
 * dropped. For an item that has a guide already, what a service guide never says (aliases,
 * 相似问, the 情形 keywords) is kept from it.
 */
import type { CatalogueItem } from '../catalogue.ts';
import { SECTION_NAMES, type Guide, type SectionName, type Situation } from '../guide.ts';
import { StatusError } from '../../bot/status-error.ts';
import { guideText } from '../guide-fields.ts';


/** The names bureaus give each section in their guides. */
const HEADINGS: Record<SectionName, RegExp> = {
  办理条件: /^(办理|申请|受理|申办)条件$|^适用(对象|范围)$/,
  所需材料: /^(所需|申请|申报|提交|办理)材料(清单)?$|^材料清单$/,
  办理流程: /^(办理|办事)(流程|程序|步骤)$/,
  办理时限: /^(办理|承诺|法定|办结)时限$/,
  收费标准: /^收费(标准|依据|情况)?$|^是否收费$/,
  办理地点与渠道: /^(办理|受理)(地点|地址|渠道|方式)(与渠道|及渠道|和渠道)?$|^办理地点与渠道$/,
  法律依据: /^(法律|设定|办理|政策)依据$/,
  温馨提示: /^(温馨|特别)提示$|^注意事项$|^其他(说明|事项)$/,
};

/** The proposal an editor reviews: every field, and where each came from. */
export interface GuideProposal {
  id: string;
  name: string;
  category: string;
  department: string;
  aliases: string[];
  questions: string[];
  situations: Situation[];
  sections: Record<SectionName, string[]>;
  /** Per field: from the document, kept from the guide in force, or from the catalogue. */
  origin: Record<string, 'document' | 'existing guide' | 'catalogue' | 'missing'>;
  /** Lines the parser could not place under a section. */
  unplaced: string[];
  /** The title the document gave, when it differs from the catalogue name. */
  documentTitle: string | null;
}

/** A file that cannot be read: its refusal is a 400. */
export class ImportError extends StatusError {}

/**
 * PDF text often carries the radical forms of characters its fonts drew them with (⼾ for 户,
 * ⺠ for 民): NFKC folds the Kangxi radicals; the supplement's common ones are mapped here.
 */
const RADICALS: Record<string, string> = {
  '⺠': '民', '⻓': '长', '⻅': '见', '⻔': '门', '⻢': '马', '⻜': '飞', '⻝': '食', '⻣': '骨', '⻤': '鬼', '⻩': '黄', '⻬': '齐',
  '⻮': '齿', '⻰': '龙', '⻳': '龟', '⺟': '母', '⻆': '角', '⻉': '贝', '⻋': '车', '⻚': '页', '⻛': '风', '⻥': '鱼', '⻦': '鸟', '⻨': '麦',
  '⻘': '青', '⻙': '韦', '⻭': '齿', '⺁': '厂', '⺇': '几', '⺈': '刀', '⺊': '卜', '⺌': '小', '⺍': '小', '⺕': '彐', '⺗': '心', '⺝': '月', '⺩': '王', '⻊': '足', '⻌': '辶', '⻍': '辶',
};
// Only the radicals: NFKC on the whole text would turn the guide's full-width ，：； into ASCII.
// The Kangxi radical 户 folds to the traditional form 戶, mapped back to the simplified.
export const unifyCharacters = (text: string) =>
  text.replace(/[\u2F00-\u2FDF]/g, (c) => c.normalize('NFKC')).replace(/[\u2E80-\u2EFF]/g, (c) => RADICALS[c] ?? c).replace(/戶/g, '户');

/** The plain text of a .docx or .pdf file. */
export async function documentText(data: Uint8Array, kind: 'docx' | 'pdf'): Promise<string> {
  try {
    // The readers are loaded when a document comes, not at every start of the server.
    if (kind === 'docx') {
      const { default: mammoth } = await import('mammoth');
      return unifyCharacters((await mammoth.extractRawText({ buffer: Buffer.from(data) })).value);
    }
    const { extractText, getDocumentProxy } = await import('unpdf');
    const pdf = await getDocumentProxy(new Uint8Array(data));
    const { text } = await extractText(pdf, { mergePages: true });
    return unifyCharacters(Array.isArray(text) ? text.join('\n') : text);
  } catch (e) {
    throw new ImportError(`无法读取该${kind === 'docx' ? ' Word ' : ' PDF '}文件：${(e as Error).message}`, 400);
  }
}

const NUMBERING = /^(\s*(第?[一二三四五六七八九十]+[、.．)）]|[（(][一二三四五六七八九十\d]+[)）]|\d+[、.．)）]|[-•·●▪◆■*]|【|\[)\s*)+/;
const clean = (line: string) => line.replace(NUMBERING, '').replace(/[】\]]\s*$/, '').replace(/[:：]\s*$/, '').trim();

function headingOf(line: string): SectionName | null {
  const l = clean(line).replace(/\s+/g, '');
  if (l.length > 12) return null;
  return SECTION_NAMES.find((s) => HEADINGS[s].test(l)) ?? null;
}

/** "事项名称：…", "实施机关：…": a labelled line of the guide's header, never run on. */
const FIELD = /^[\u4e00-\u9fa5]{2,8}[：:]/;

/**
 * Joins the lines a PDF broke in the middle of a sentence: a line that does not end a
 * sentence or a list item runs on into the next, unless the next starts a new item.
 */
function sentences(lines: string[]): string[] {
  const out: string[] = [];
  for (const raw of lines) {
    const line = raw.trim();
    if (!line) continue;
    const prev = out.at(-1);
    const startsItem = NUMBERING.test(line) || /^(情形|第[一二三四五六七八九十]+种)/.test(line) || FIELD.test(line);
    const ended = /[。；;：:！？!?）)】\]]$/.test(prev ?? '') || /指南$/.test(prev ?? '') || FIELD.test(prev ?? '');
    if (prev !== undefined && !ended && !startsItem && !headingOf(line) && !headingOf(prev)) out[out.length - 1] = prev + line;
    else out.push(line);
  }
  return out;
}

const SITUATION = /^(情形[一二三四五六七八九十\d]+|第[一二三四五六七八九十]+种情形)[：:、.．\s]*(.+)$/;

export function parseServiceGuide(text: string, item: CatalogueItem, existing?: Guide): GuideProposal {
  const lines = sentences(text.split(/\r?\n/));
  const sections = Object.fromEntries(SECTION_NAMES.map((s) => [s, [] as string[]])) as Record<SectionName, string[]>;
  const situations: Situation[] = [];
  const unplaced: string[] = [];
  let current: SectionName | null = null;
  let situation: Situation | null = null;
  let documentTitle: string | null = null;
  for (const line of lines) {
    const heading = headingOf(line);
    if (heading) {
      current = heading;
      situation = null;
      continue;
    }
    const body = clean(line);
    if (!body) continue;
    if (!current) {
      const named = /^事项名称[：:]\s*(.+)$/.exec(body);
      if (named) documentTitle = named[1]!.trim();
      else if (!documentTitle && !/^(办事指南|服务指南)$/.test(body)) documentTitle = body.replace(/(办事|服务)指南$/, '').trim();
      else unplaced.push(body);
      continue;
    }
    const s = current === '所需材料' ? SITUATION.exec(line.trim()) : null;
    if (s) {
      situation = { name: s[2]!.replace(/[：:。]$/, '').replace(/的$/, '').trim(), keywords: [], materials: [] };
      situations.push(situation);
      continue;
    }
    if (situation) situation.materials.push(body);
    else sections[current].push(body);
  }
  // The materials every 情形 needs, said once, as the guides do.
  if (situations.length && !sections.所需材料.length) sections.所需材料.push('所需材料因情形不同，请先确认您属于哪种情形。');

  const old = existing ?? null;
  const origin: GuideProposal['origin'] = { id: 'catalogue', name: 'catalogue', category: 'catalogue', department: 'catalogue' };
  for (const s of SECTION_NAMES) origin[s] = sections[s].length ? 'document' : 'missing';
  const keptSituations = situations.map((s) => {
    const was = old?.situations.find((o) => o.name === s.name);
    return { ...s, keywords: was?.keywords ?? [s.name] };
  });
  origin.situations = situations.length ? 'document' : old?.situations.length ? 'existing guide' : 'missing';
  origin.aliases = old ? 'existing guide' : 'missing';
  origin.questions = old ? 'existing guide' : 'missing';
  return {
    id: item.id,
    name: item.name,
    category: item.category,
    department: item.department,
    aliases: old?.aliases ?? [],
    questions: old?.questions ?? [],
    situations: situations.length ? keptSituations : (old?.situations ?? []),
    sections,
    origin,
    unplaced,
    documentTitle: documentTitle && documentTitle !== item.name ? documentTitle : null,
  };
}

/** The guide file of a reviewed proposal: its section lines as lists (the 办理流程 numbered). */
export function guideMarkdown(p: Pick<GuideProposal, 'id' | 'name' | 'category' | 'department' | 'aliases' | 'questions' | 'situations' | 'sections'>): string {
  const sections = Object.fromEntries(
    SECTION_NAMES.map((s) => {
      const lines = p.sections[s] ?? [];
      return [s, (s === '办理流程' ? lines.map((l, i) => `${i + 1}. ${l}`) : lines.map((l) => `- ${l}`)).join('\n')];
    }),
  ) as Record<SectionName, string>;
  return guideText({ ...p, sections });
}
