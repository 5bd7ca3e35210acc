/**
 * Which cases a staff member sees and may work on, from their unit in the organisation tree
 * and their roles. The same rule serves every desk query and action, so a page cannot show
 * what the API would refuse:
 * - the bureau (the root unit) and systems with the API token: every case;
 * - a handler: the cases their unit or a unit below it handles (a 分局 sees its 派出所);
 * - a supervisor: also the cases those units supervise;
 * - an account with no unit: none (an admin sets the unit in 账号管理).
 * Only handlers act, and only on cases their units handle.
 */
import type { CaseRouter } from './router.ts';

export interface CaseScope {
  /** Every case (bureau level, or a system). */
  all: boolean;
  /** Units whose handled cases are seen and may be worked on (handlers). */
  handling: string[];
  /** Units whose supervised or handled cases are seen, read-only (supervisors). */
  watching: string[];
  /** Whether this person may work on cases at all (role handler). */
  acts: boolean;
}

export interface ScopedStaff {
  username: string;
  roles: readonly string[];
  unit?: string | null;
  /** A system calling with the bearer token rather than a person. */
  system?: boolean;
}

/** Every case, read-only (internal callers such as the platform adapter). */
export const EVERY_CASE: CaseScope = { all: true, handling: [], watching: [], acts: false };

export function scopeOf(staff: ScopedStaff, router: CaseRouter): CaseScope {
  const acts = staff.roles.includes('handler');
  const watches = staff.roles.includes('supervisor');
  if (staff.system || (staff.unit && staff.unit === router.root.id && (acts || watches))) return { all: true, handling: [], watching: [], acts };
  const below = staff.unit ? router.subtree(staff.unit) : [];
  return { all: false, handling: acts ? below : [], watching: watches ? below : [], acts };
}

/** The part of a units query that limits it to the scope: an SQL condition on `cases` and its parameters. */
export function scopeCondition(scope: CaseScope, param: (value: unknown) => string): string {
  if (scope.all) return 'TRUE';
  const parts: string[] = [];
  if (scope.handling.length) parts.push(`handling_unit = ANY(${param(scope.handling)}::text[])`);
  if (scope.watching.length) {
    const watched = param(scope.watching);
    parts.push(`(handling_unit = ANY(${watched}::text[]) OR supervising_unit = ANY(${watched}::text[]))`);
  }
  return parts.length ? `(${parts.join(' OR ')})` : 'FALSE';
}

export function sees(scope: CaseScope, c: { handlingUnit: string; supervisingUnit: string }): boolean {
  return scope.all || scope.handling.includes(c.handlingUnit) || scope.watching.includes(c.handlingUnit) || scope.watching.includes(c.supervisingUnit);
}

export function worksOn(scope: CaseScope, c: { handlingUnit: string }): boolean {
  return scope.acts && (scope.all || scope.handling.includes(c.handlingUnit));
}
