/** The case platform contract (openapi.yaml) as TypeScript types. */

export const CASE_TYPES = ['咨询', '求助', '投诉', '举报', '建议'] as const;
export type CaseType = (typeof CASE_TYPES)[number];

export const RATINGS = ['非常满意', '满意', '基本满意', '不满意', '非常不满意'] as const;
export type Rating = (typeof RATINGS)[number];
/** 差评: must be followed up and put right. */
export const isBadRating = (r: Rating) => r === '不满意' || r === '非常不满意';

export type CaseStatus = 'submitted' | 'accepted' | 'in_progress' | 'replied' | 'closed';

export interface NewCase {
  type: CaseType;
  description: string;
  place?: string;
  category?: string;
  citizen: { id: string; mobile: string; name?: string; consentToContact: boolean };
  channel?: string;
}

export interface CaseStep {
  at: string;
  actor: string;
  action: string;
  note?: string;
  /** A working step kept for staff (the built-in desk): never shown to the citizen. */
  internal?: boolean;
}

export interface Case {
  id: string;
  status: CaseStatus;
  type: CaseType;
  category?: string;
  description: string;
  handlingUnit?: string;
  supervisingUnit?: string;
  dueAt?: string;
  round: number;
  level: 1 | 2 | 3;
  /**
   * The open case this one repeats: its own id when the same citizen reported it again,
   * another case's when a different citizen did (their own case, handled with that one).
   */
  repeatOf?: string;
  reply?: string;
  createdAt: string;
  steps?: CaseStep[];
}

export interface CaseEvent {
  eventId: string;
  type: 'case.accepted' | 'case.in_progress' | 'case.replied' | 'case.closed';
  caseId: string;
  at: string;
  case: Case;
}
