/**
 * Routing a case from its Chinese text (分拣): type, business category, handling unit and
 * supervising unit, from the editable rules in routing.yaml.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { CASE_TYPES, type CaseType } from '../types.ts';

export interface Unit {
  id: string;
  name: string;
  supervisor: string;
  areas: string[];
}

export interface Routing {
  type: CaseType;
  category: string;
  handlingUnit: Unit;
  supervisingUnit: Unit;
  dueHours: number;
}

interface Rules {
  types: Array<{ type: CaseType; patterns: RegExp[] }>;
  categories: Array<{ name: string; keywords: string[]; dueHours: number; unit: string }>;
  units: Map<string, Unit>;
  local: Record<string, string>;
}

export const ROUTING_FILE = path.join(path.dirname(fileURLToPath(import.meta.url)), 'routing.yaml');

export function loadRouting(file = ROUTING_FILE): CaseRouter {
  const raw = parse(readFileSync(file, 'utf8')) as {
    types: Record<string, string[]>;
    categories: Record<string, { keywords: string[]; due_hours: number; unit: string }>;
    units: Array<{ id: string; name: string; supervisor: string; areas?: string[] }>;
    local?: Record<string, string>;
  };
  const units = new Map(raw.units.map((u) => [u.id, { ...u, areas: u.areas ?? [] }]));
  const problems: string[] = [];
  for (const t of Object.keys(raw.types)) if (!(CASE_TYPES as readonly string[]).includes(t)) problems.push(`unknown case type "${t}"`);
  for (const [name, c] of Object.entries(raw.categories)) if (!units.has(c.unit)) problems.push(`category ${name}: unknown unit "${c.unit}"`);
  for (const u of units.values()) if (!units.has(u.supervisor)) problems.push(`unit ${u.id}: unknown supervisor "${u.supervisor}"`);
  if (units.size < 15) problems.push(`only ${units.size} units (at least 15 expected)`);
  if (problems.length) throw new Error(`${file}: ${problems.join('; ')}`);
  return new CaseRouter({
    types: Object.entries(raw.types).map(([type, ps]) => ({ type: type as CaseType, patterns: ps.map((p) => new RegExp(p)) })),
    categories: Object.entries(raw.categories).map(([name, c]) => ({ name, keywords: c.keywords, dueHours: c.due_hours, unit: c.unit })),
    units,
    local: raw.local ?? {},
  });
}

export class CaseRouter {
  constructor(private readonly rules: Rules) {}

  get units(): Unit[] {
    return [...this.rules.units.values()];
  }

  unit(id: string): Unit {
    const u = this.rules.units.get(id);
    if (!u) throw new Error(`unknown unit "${id}"`);
    return u;
  }

  route(description: string, place = '', given?: CaseType): Routing {
    const type = given ?? this.rules.types.find((t) => t.patterns.some((p) => p.test(description)))?.type ?? '咨询';
    let best = this.rules.categories.find((c) => c.name === '其他') ?? this.rules.categories[this.rules.categories.length - 1]!;
    let hits = 0;
    for (const c of this.rules.categories) {
      const n = c.keywords.filter((k) => description.includes(k)).length;
      if (n > hits) [best, hits] = [c, n];
    }
    let handling = this.unit(best.unit);
    // Local matters go to the station or traffic brigade whose area the place names.
    const localKind = this.rules.local[best.name];
    const where = `${place} ${description}`;
    if (localKind) {
      const local = this.units.find((u) => u.id.startsWith(localKind) && u.areas.some((a) => where.includes(a)));
      if (local) handling = local;
    }
    return { type, category: best.name, handlingUnit: handling, supervisingUnit: this.unit(handling.supervisor), dueHours: best.dueHours };
  }
}
