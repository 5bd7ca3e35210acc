/** The 事项 catalogue: ids are the contract between guides, eval sets and every interface. */
import { readFileSync } from 'node:fs';

export interface CatalogueItem {
  id: string;
  name: string;
  category: string;
  department: string;
}

export function loadCatalogue(file: string): CatalogueItem[] {
  const lines = readFileSync(file, 'utf8').split(/\r?\n/).filter((l) => l.trim() !== '');
  const [header, ...rows] = lines;
  if (header?.split('\t').join(',') !== 'id,name,category,department') {
    throw new Error(`${file}:1: the header must be "id<TAB>name<TAB>category<TAB>department"`);
  }
  return rows.map((row, i) => {
    const [id, name, category, department] = row.split('\t');
    if (!id || !name || !category || !department) {
      throw new Error(`${file}:${i + 2}: expected 4 tab-separated columns, got "${row}"`);
    }
    return { id, name, category, department };
  });
}
