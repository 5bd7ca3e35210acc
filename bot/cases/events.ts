/**
 * What 小安 does with the platform's callbacks: each event once; on case.closed, tell the
 * citizen the result and ask for a rating (or leave the survey row pending, asked at their
 * next contact however long the chat was closed);
 * and the 48-hour reminder, then 未评价.
 */
import type { DialogEngine } from '../engine.ts';
import type { Database } from '../store/database.ts';
import { caseLink, createSurvey, dueForReminder, expireUnanswered, firstTimeEvent, markAsked, markReminded } from './store.ts';
import { reminderReplies, surveyReplies } from '../../handlers/satisfaction.ts';
import type { CaseEvent } from '../../integrations/case-platform/types.ts';

export class CaseEvents {
  constructor(
    private readonly db: Database,
    private readonly engine: DialogEngine,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** Handles one verified event; "duplicate" when the platform sent it before. */
  async handle(event: CaseEvent): Promise<'handled' | 'duplicate' | 'unknown_case'> {
    if (!(await firstTimeEvent(this.db, event.eventId, event.type, event.caseId))) return 'duplicate';
    const link = await caseLink(this.db, event.caseId);
    if (!link) return 'unknown_case';
    if (event.type !== 'case.closed') return 'handled';
    const c = event.case;
    const survey = await createSurvey(this.db, { caseId: c.id, round: c.round, level: c.level, channel: link.channel, userId: link.userId });
    // A second close of the same round asks nothing: one rating per round.
    if (!survey) return 'handled';
    // Not delivered: the survey row stays pending and is asked at the citizen's next message.
    const delivered = await this.engine.notify(link.channel, link.userId, surveyReplies(c), {
      awaiting: { kind: 'rating', surveyId: survey.id, caseId: c.id, round: c.round, level: c.level },
    });
    if (delivered) await markAsked(this.db, survey.id, this.now());
    return 'handled';
  }

  /** One reminder 48 hours after asking, where the chat is open; 未评价 48 hours later. */
  async remind(): Promise<{ reminded: number; unrated: number }> {
    const now = this.now();
    const due = await dueForReminder(this.db, now);
    for (const s of due) {
      await this.engine.notify(s.channel, s.userId, reminderReplies(s.caseId), {
        awaiting: { kind: 'rating', surveyId: s.id, caseId: s.caseId, round: s.round, level: s.level },
      });
      await markReminded(this.db, s.id, now);
    }
    return { reminded: due.length, unrated: await expireUnanswered(this.db, now) };
  }
}
