/**
 * Routing a case from its Chinese text (分拣): type, business category, handling unit and
 * supervising unit, from the editable rules in routing.yaml.
 */
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { sourceFile } from '../../../bot/paths.ts';
import { CASE_TYPES, type CaseType } from '../types.ts';

export interface Unit {
  id: string;
  name: string;
  /** The unit above (市局 → 分局/支队 → 派出所/大队); none for the bureau itself. */
  parent?: string;
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
  /** Where a case returned by its unit goes to be routed again (分拣). */
  dispatcher: string;
}

export const ROUTING_FILE = sourceFile(import.meta.url, 'routing.yaml');

export function loadRouting(file = ROUTING_FILE): CaseRouter {
  const raw = parse(readFileSync(file, 'utf8')) as {
    types: Record<string, string[]>;
    categories: Record<string, { keywords: string[]; due_hours: number; unit: string }>;
    units: Array<{ id: string; name: string; parent?: string; supervisor: string; areas?: string[] }>;
    local?: Record<string, string>;
    dispatcher?: string;
  };
  const units = new Map(raw.units.map((u) => [u.id, { ...u, areas: u.areas ?? [] }]));
  const problems: string[] = [];
  for (const t of Object.keys(raw.types)) if (!(CASE_TYPES as readonly string[]).includes(t)) problems.push(`unknown case type "${t}"`);
  for (const [name, c] of Object.entries(raw.categories)) if (!units.has(c.unit)) problems.push(`category ${name}: unknown unit "${c.unit}"`);
  for (const u of units.values()) if (!units.has(u.supervisor)) problems.push(`unit ${u.id}: unknown supervisor "${u.supervisor}"`);
  if (units.size < 15) problems.push(`only ${units.size} units (at least 15 expected)`);
  const roots = [...units.values()].filter((u) => !u.parent);
  if (roots.length !== 1) problems.push(`one unit without a parent (the bureau) expected, found ${roots.map((u) => u.id).join(', ') || 'none'}`);
  for (const u of units.values()) {
    if (u.parent && !units.has(u.parent)) problems.push(`unit ${u.id}: unknown parent "${u.parent}"`);
    // Walking up from every unit must reach the bureau: no loops.
    const seen = new Set<string>();
    for (let at: Unit | undefined = u; at?.parent; at = units.get(at.parent)) {
      if (seen.has(at.id)) {
        problems.push(`unit ${u.id}: its parents loop`);
        break;
      }
      seen.add(at.id);
    }
  }
  const dispatcher = raw.dispatcher ?? roots[0]?.id ?? '';
  if (!units.has(dispatcher)) problems.push(`unknown dispatcher unit "${dispatcher}"`);
  if (problems.length) throw new Error(`${file}: ${problems.join('; ')}`);
  return new CaseRouter({
    types: Object.entries(raw.types).map(([type, ps]) => ({ type: type as CaseType, patterns: ps.map((p) => new RegExp(p)) })),
    categories: Object.entries(raw.categories).map(([name, c]) => ({ name, keywords: c.keywords, dueHours: c.due_hours, unit: c.unit })),
    units,
    local: raw.local ?? {},
    dispatcher,
  });
}

export class CaseRouter {
  constructor(private readonly rules: Rules) {}

  /** The business categories, in the file's order. */
  get categories(): string[] {
    return this.rules.categories.map((c) => c.name);
  }

  get units(): Unit[] {
    return [...this.rules.units.values()];
  }

  /** The bureau: the one unit without a parent; its staff see every case. */
  get root(): Unit {
    return this.units.find((u) => !u.parent)!;
  }

  get dispatcher(): Unit {
    return this.unit(this.rules.dispatcher);
  }

  /** The unit and every unit below it. */
  subtree(id: string): string[] {
    const out = [id];
    for (let i = 0; i < out.length; i++) for (const u of this.rules.units.values()) if (u.parent === out[i]) out.push(u.id);
    return this.rules.units.has(id) ? out : [];
  }

  /** 市公安局 / 中心区分局 / 人民路派出所: the unit with the units above it. */
  path(id: string): string {
    const names: string[] = [];
    for (let u = this.rules.units.get(id); u; u = u.parent ? this.rules.units.get(u.parent) : undefined) names.unshift(u.name);
    return names.join(' / ');
  }

  has(id: string): boolean {
    return this.rules.units.has(id);
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
