/** Every OpenAPI file of the project is valid OpenAPI (checked by a validator, not by eye). */
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { Validator } from '@seriousme/openapi-schema-validator';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../bot/config.ts';

function openapiFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    if (e.name === 'node_modules' || e.name.startsWith('.') || e.name === 'data' || e.name === 'dist') return [];
    const p = path.join(dir, e.name);
    return e.isDirectory() ? openapiFiles(p) : /^openapi.*\.ya?ml$/.test(e.name) ? [p] : [];
  });
}

describe('OpenAPI files', () => {
  const files = openapiFiles(PROJECT_ROOT);

  it('finds the contracts', () => {
    expect(files.map((f) => path.relative(PROJECT_ROOT, f))).toContain(path.join('integrations', 'case-platform', 'openapi.yaml'));
  });

  it.each(files.map((f) => [path.relative(PROJECT_ROOT, f), f]))('%s is valid', async (_name, file) => {
    const result = await new Validator().validate(file);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
  });
});
