/** A case from the platform, or null when it cannot be read now (the survey still goes out). */
import type { CasePlatform } from '../integrations/case-platform/platform.ts';
import type { Case } from '../integrations/case-platform/types.ts';

export async function getCase(platform: CasePlatform, id: string): Promise<Case | null> {
  try {
    return await platform.getCase(id);
  } catch (e) {
    console.warn(`case ${id} could not be read: ${(e as Error).message}`);
    return null;
  }
}
