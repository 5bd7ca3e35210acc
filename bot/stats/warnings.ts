/**
 * Warnings (预警): a unit with too many overdue open cases, or too many 差评 in the last days,
 * is named to its handlers (their console) and to its supervisors (统计). Counted from the
 * store on each read, so a warning goes when the unit has put things right.
 */
import type { Queryable } from '../store/database.ts';
import { scopeCondition, type CaseScope } from '../../integrations/case-platform/desk/scope.ts';
import type { CaseRouter } from '../../integrations/case-platform/desk/router.ts';

export interface WarningRules {
  overdueCases: number;
  badRatings: number;
  days: number;
}

export interface UnitWarning {
  unit: string;
  name: string;
  overdue: number;
  badRatings: number;
  /** What passed its threshold, in words for the console. */
  reasons: string[];
}

export async function unitWarnings(db: Queryable, router: CaseRouter, scope: CaseScope, rules: WarningRules, now = new Date()): Promise<UnitWarning[]> {
  const params: unknown[] = [now.toISOString(), rules.days];
  const bind = (v: unknown) => `$${params.push(v)}`;
  const { rows } = await db.query<{ unit: string; overdue: string; bad: string }>(
    `SELECT handling_unit AS unit,
            count(*) FILTER (WHERE status <> 'closed' AND due_at < $1::timestamptz) AS overdue,
            (SELECT count(*) FROM surveys s JOIN cases k ON k.id = s.case_id
              WHERE k.handling_unit = c.handling_unit AND s.status = 'answered' AND s.rating IN ('不满意', '非常不满意')
                AND s.answered_at >= $1::timestamptz - make_interval(days => $2)) AS bad
       FROM cases c WHERE ${scopeCondition(scope, bind)}
      GROUP BY handling_unit`,
    params,
  );
  return rows
    .map((r) => {
      const overdue = Number(r.overdue);
      const badRatings = Number(r.bad);
      const reasons = [
        ...(overdue >= rules.overdueCases ? [`超期未办结 ${overdue} 件（预警线 ${rules.overdueCases} 件）`] : []),
        ...(badRatings >= rules.badRatings ? [`近 ${rules.days} 天差评 ${badRatings} 件（预警线 ${rules.badRatings} 件）`] : []),
      ];
      return { unit: r.unit, name: router.units.find((u) => u.id === r.unit)?.name ?? r.unit, overdue, badRatings, reasons };
    })
    .filter((w) => w.reasons.length)
    .sort((a, b) => b.overdue - a.overdue || b.badRatings - a.badRatings || a.unit.localeCompare(b.unit));
}
