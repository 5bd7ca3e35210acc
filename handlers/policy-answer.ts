/**
 * A policy answer: the part of the guide the citizen asked for, quoted from the guide and
 * never composed from elsewhere, with the source guide named.
 */
import type { Guide, SectionName, Situation } from '../knowledge-base/guide.ts';
import type { Aspect, AspectRule } from '../knowledge-base/lexicon.ts';
import { text } from './texts.ts';

export interface Answer {
  text: string;
  sources: Array<{ itemId: string; section: string }>;
}

/** Lines of 办理地点与渠道 that are about doing it online. */
export const ONLINE = /网上|线上|网办|app|APP|平台|12123|小程序|公众号|网站|在线|全程网办/;

const lines = (s: string) => s.split('\n').map((l) => l.trim()).filter(Boolean);
/** The first n facts of a section as one line: list markers dropped, joined with "；". */
const firstLines = (s: string, n: number) =>
  lines(s)
    .slice(0, n)
    .map((l) => l.replace(/^(?:[-*•]|\d+[.、])\s*/, '').replace(/[。；;]$/, ''))
    .join('；') + '。';

/**
 * @param situationUnknown the citizen said they do not know their 情形: list every 情形's materials.
 */
export function composeAnswer(guide: Guide, aspect: Aspect, rules: AspectRule[], situation: Situation | null, situationUnknown = false): Answer {
  const source = text('answer_source', { name: guide.name });
  const sources: Answer['sources'] = [];
  const use = (section: SectionName) => {
    sources.push({ itemId: guide.id, section });
    return guide.sections[section];
  };

  if (aspect === 'general') {
    const parts = [
      `【${guide.name}】`,
      `${text('overview.conditions')}：${firstLines(use('办理条件'), 2)}`,
      situation
        ? `${text('overview.materials')}（${situation.name}）：\n${situationMaterials(situation)}`
        : `${text('overview.materials')}：${firstLines(use('所需材料'), 3)}`,
      `${text('overview.fees')}：${firstLines(use('收费标准'), 2)}`,
      `${text('overview.time')}：${firstLines(use('办理时限'), 1)}`,
      `${text('overview.place')}：${firstLines(
        lines(use('办理地点与渠道'))
          .filter((l) => !ONLINE.test(l))
          .join('\n') || guide.sections['办理地点与渠道'],
        2,
      )}`,
    ];
    const online = lines(guide.sections['办理地点与渠道']).filter((l) => ONLINE.test(l));
    if (online.length) parts.push(`${text('overview.online')}：${firstLines(online.join('\n'), 2)}`);
    if (situation) sources.push({ itemId: guide.id, section: '所需材料' });
    parts.push(source);
    return { text: parts.join('\n'), sources: dedupe(sources) };
  }

  const rule = rules.find((r) => r.key === aspect)!;
  const header = text('aspect_header', { name: guide.name, label: rule.label });
  let body: string;
  if (aspect === 'materials') {
    body = use('所需材料');
    if (situation) {
      body = `${text('situation_header', { situation: situation.name })}\n${situationMaterials(situation)}\n${body}`;
    } else if (guide.situations.length && situationUnknown) {
      body = `${body}\n${guide.situations.map((s) => `${text('situation_header', { situation: s.name })}\n${situationMaterials(s)}`).join('\n')}`;
    } else if (guide.situations.length) {
      body = `${body}\n${text('situation_pick', { choices: guide.situations.map((s) => s.name).join(' / ') })}`;
    }
  } else if (aspect === 'online') {
    const section = use('办理地点与渠道');
    const online = lines(section).filter((l) => ONLINE.test(l));
    body = online.length ? online.join('\n') : section;
  } else {
    body = use(rule.section as SectionName);
  }
  return { text: `【${header}】\n${body}\n${source}`, sources: dedupe(sources) };
}

function situationMaterials(s: Situation): string {
  return s.materials.map((m) => `- ${m}`).join('\n');
}

function dedupe(sources: Answer['sources']): Answer['sources'] {
  const seen = new Set<string>();
  return sources.filter((s) => !seen.has(s.section) && seen.add(s.section));
}
