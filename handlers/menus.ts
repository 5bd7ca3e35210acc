/** Menus 小安 shows, with stable ids that map back to actions. */
import type { Guide } from '../knowledge-base/guide.ts';
import type { Aspect } from '../knowledge-base/lexicon.ts';
import type { MenuItem, Reply } from '../bot/messages.ts';
import type { EnglishGuide } from '../knowledge-base/english-guide.ts';
import { currentLanguage, text, textList } from './texts.ts';

const FOLLOW_UP: Array<Exclude<Aspect, 'general' | 'conditions' | 'process'>> = ['materials', 'fees', 'time', 'place', 'online'];

export function followUpMenu(asked: Aspect): Reply {
  const items: MenuItem[] = FOLLOW_UP.filter((a) => a !== asked).map((a) => ({ id: `aspect:${a}`, label: text(`follow_up.${a}`) }));
  items.push({ id: 'handoff', label: text('follow_up.handoff') });
  return { type: 'menu', head: text('follow_up_head'), items };
}

export function situationMenu(guide: Guide, english?: EnglishGuide): Reply {
  const name = (zh: string) => (currentLanguage() === 'en' && english?.situations.find((s) => s.zh === zh)?.name) || zh;
  return {
    type: 'menu',
    head: text('situation_head'),
    items: [
      ...guide.situations.map((s, i) => ({ id: `situation:${i}`, label: name(s.name) })),
      { id: 'situation:unknown', label: text('situation_unknown') },
    ],
  };
}

export function welcomeMenu(): Reply {
  return {
    type: 'menu',
    head: text('welcome_head'),
    items: textList('welcome').map((q) => (q === '转人工' ? { id: 'handoff', label: q } : { id: `ask:${q}`, label: q })),
  };
}

export function noneOfTheseMenu(): Reply {
  return {
    type: 'menu',
    head: text('none_reply'),
    items: (['rephrase', 'handoff', 'leave_message'] as const).map((id) => ({ id, label: text(`none_options.${id}`) })),
  };
}
