/**
 * Human service hours as configured (SERVICE_HOURS, the same words citizens are told): which
 * days and which times, read in the bureau's time zone. "工作日 9:00–17:00", "每天 8:30-20:00",
 * "周一至周六 9:00～17:30", several ranges with "、" or ";" ("工作日 9:00–12:00、13:30–17:00").
 * Public holidays are not known here: on those days the queue is offered as on a weekday.
 */
export interface ServiceHours {
  text: string;
  /** Days of the week open (0 = Sunday). */
  days: Set<number>;
  /** Open ranges in minutes after midnight, end exclusive. */
  ranges: Array<[number, number]>;
}

const DAY = { 日: 0, 天: 0, 一: 1, 二: 2, 三: 3, 四: 4, 五: 5, 六: 6 } as const;
const dayNumber = (c: string) => DAY[c as keyof typeof DAY];

function parseDays(text: string): Set<number> | null {
  if (/每天|每日|全天|7\s*[x×*]\s*24/.test(text)) return new Set([0, 1, 2, 3, 4, 5, 6]);
  if (/工作日/.test(text)) return new Set([1, 2, 3, 4, 5]);
  const span = /(?:周|星期)([一二三四五六日天])\s*(?:至|到|-|–|~|～)\s*(?:周|星期)?([一二三四五六日天])/.exec(text);
  if (span) {
    const out = new Set<number>();
    for (let d = dayNumber(span[1]!); ; d = (d + 1) % 7) {
      out.add(d);
      if (d === dayNumber(span[2]!)) return out;
    }
  }
  return null;
}

export class ServiceHoursError extends Error {}

export function parseServiceHours(text: string): ServiceHours {
  const days = parseDays(text) ?? new Set([1, 2, 3, 4, 5]);
  const ranges: Array<[number, number]> = [];
  for (const m of text.matchAll(/(\d{1,2})[:：](\d{2})\s*(?:-|–|—|~|～|至|到)\s*(\d{1,2})[:：](\d{2})/g)) {
    const from = Number(m[1]) * 60 + Number(m[2]);
    const to = Number(m[3]) * 60 + Number(m[4]);
    if (Number(m[2]) > 59 || Number(m[4]) > 59 || to > 24 * 60 || from >= to) throw new ServiceHoursError(`SERVICE_HOURS: "${m[0]}" is not a time range`);
    ranges.push([from, to]);
  }
  if (/7\s*[x×*]\s*24|全天/.test(text) && !ranges.length) ranges.push([0, 24 * 60]);
  if (!ranges.length) throw new ServiceHoursError('SERVICE_HOURS needs days and times, e.g. "工作日 9:00–17:00" or "每天 8:30–20:00"');
  return { text, days, ranges };
}

/** Whether a person can be reached at `at`, on the bureau's clock. */
export function isOpen(hours: ServiceHours, at: Date, timeZone = 'Asia/Shanghai'): boolean {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-US', { timeZone, weekday: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).formatToParts(at).map((p) => [p.type, p.value]),
  );
  const day = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'].indexOf(parts.weekday!);
  const minute = Number(parts.hour) * 60 + Number(parts.minute);
  return hours.days.has(day) && hours.ranges.some(([from, to]) => minute >= from && minute < to);
}
