/** The offices (办事网点) of the demo jurisdiction: data in offices.yaml, looked up here. */
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';

export interface Office {
  id: string;
  name: string;
  address: string;
  hours: string;
  phone: string;
  lat: number;
  lng: number;
  /** Item ids or prefix patterns such as "sfz-*". */
  handles: string[];
}

export function loadOffices(file: string): Office[] {
  const raw = parse(readFileSync(file, 'utf8')) as unknown;
  if (!Array.isArray(raw)) throw new Error(`${file}: expected a list of offices`);
  return raw.map((o: Record<string, unknown>, i) => {
    for (const k of ['id', 'name', 'address', 'hours', 'phone']) {
      if (typeof o[k] !== 'string' || !(o[k] as string).trim()) throw new Error(`${file}: office ${i + 1} needs "${k}"`);
    }
    if (typeof o.lat !== 'number' || typeof o.lng !== 'number') throw new Error(`${file}: office ${String(o.id)} needs numeric lat and lng`);
    if (!Array.isArray(o.handles) || !o.handles.length) throw new Error(`${file}: office ${String(o.id)} needs "handles"`);
    return { ...(o as unknown as Office), handles: (o.handles as unknown[]).map(String) };
  });
}

export function handles(office: Office, itemId: string): boolean {
  return office.handles.some((h) => (h.endsWith('*') ? itemId.startsWith(h.slice(0, -1)) : h === itemId));
}

/** Great-circle distance in kilometres. */
export function distanceKm(a: { lat: number; lng: number }, b: { lat: number; lng: number }): number {
  const rad = (d: number) => (d * Math.PI) / 180;
  const dLat = rad(b.lat - a.lat);
  const dLng = rad(b.lng - a.lng);
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(rad(a.lat)) * Math.cos(rad(b.lat)) * Math.sin(dLng / 2) ** 2;
  return 2 * 6371 * Math.asin(Math.sqrt(h));
}

/** Offices that handle the item (all when none is given), nearest first when a place is known. */
export function findOffices(
  offices: Office[],
  o: { itemId?: string; near?: { lat: number; lng: number }; limit?: number },
): Array<Office & { km?: number }> {
  const list = offices.filter((f) => !o.itemId || handles(f, o.itemId)).map((f) => ({ ...f, km: o.near ? distanceKm(o.near, f) : undefined }));
  if (o.near) list.sort((a, b) => a.km! - b.km!);
  return list.slice(0, o.limit ?? 3);
}
