/**
 * The knowledge a running 小安 serves: the release in force in the store, switched without a
 * restart. Each process checks the store every few seconds; when another release has come
 * into force (published, rolled back, or a scheduled effective time reached) it opens that
 * release (its files written once under DATA_DIR/releases/, its index built or reused) and
 * swaps it into the one KnowledgeBase object every component holds, between two turns.
 */
import { fallbackLog, type Logger } from '../bot/log.ts';
import { existsSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';
import type { Config } from '../bot/config.ts';
import type { Database } from '../bot/store/database.ts';
import { openKnowledgeBase, type KnowledgeBase } from './knowledge-base.ts';
import type { Progress } from './knowledge-index.ts';
import { checksumOf, currentRelease, readKbFiles, seedRelease, writeKbFiles, type KbFiles, type KbRelease } from './releases.ts';

export const RELEASE_CHECK_MS = 5_000;

/** Where a release's files are written to be read as a guides and a lexicon folder. */
export function releaseFolder(dataDir: string, checksum: string): string {
  return path.join(dataDir, 'releases', checksum.slice(0, 20));
}

/**
 * Writes a set of files (a release or a draft) once under DATA_DIR/releases/, by content:
 * its guides and lexicon folders.
 */
export function materialize(config: Config, files: KbFiles, checksum = checksumOf(files)): { guidesDir: string; lexiconDir: string } {
  const dir = releaseFolder(config.dataDir, checksum);
  if (!existsSync(dir)) {
    // Written aside and renamed: a crash never leaves half a release that looks whole.
    const partial = `${dir}.partial-${process.pid}`;
    rmSync(partial, { recursive: true, force: true });
    writeKbFiles(files, partial);
    try {
      renameSync(partial, dir);
    } catch (e) {
      // Another process on this folder got there first with the same content.
      rmSync(partial, { recursive: true, force: true });
      if (!existsSync(dir)) throw e;
    }
  }
  return { guidesDir: path.join(dir, 'guides'), lexiconDir: path.join(dir, 'lexicon') };
}

/** Opens a set of files as a knowledge base (its index built, or reused by checksum). */
export function openKnowledgeFiles(config: Config, files: KbFiles, o: { checksum?: string; onProgress?: Progress } = {}): Promise<KnowledgeBase> {
  return openKnowledgeBase({ ...config, ...materialize(config, files, o.checksum) }, o.onProgress);
}

/** Opens a release (read with its files) as a knowledge base. */
export function openRelease(config: Config, release: KbRelease, onProgress?: Progress): Promise<KnowledgeBase> {
  if (!release.files) throw new Error(`release ${release.id} was read without its files`);
  return openKnowledgeFiles(config, release.files, { checksum: release.checksum, onProgress });
}

export class LiveKnowledge {
  private timer: NodeJS.Timeout | null = null;
  private checking: Promise<boolean> | null = null;
  /** A check asked while one ran: it runs once that one is done. */
  private next: Promise<boolean> | null = null;

  private constructor(
    private readonly config: Config,
    private readonly db: Database,
    readonly kb: KnowledgeBase,
    private served: KbRelease,
    private readonly onSwitch: (release: KbRelease, kb: KnowledgeBase) => Promise<void> | void,
  ) {}

  /**
   * Seeds the store from the shipped files the first time, then opens the release in force.
   * `onSwitch` runs after each switch (to record the version published).
   */
  static async open(config: Config, db: Database, o: { onProgress?: Progress; onSwitch?: (release: KbRelease, kb: KnowledgeBase) => Promise<void> | void } = {}): Promise<LiveKnowledge> {
    // The shipped files are read only when the store has no release yet.
    await seedRelease(db, () => readKbFiles(config.guidesDir, config.lexiconDir));
    const release = (await currentRelease(db, { files: true }))!;
    const kb = await openRelease(config, release, o.onProgress);
    kb.release = release.id;
    return new LiveKnowledge(config, db, kb, { ...release, files: undefined }, o.onSwitch ?? (() => {}));
  }

  get release(): KbRelease {
    return this.served;
  }

  /**
   * Switches to the release in force if it is not the one served; true when it switched. One
   * check at a time (a slow index build is not started twice); one asked while another runs
   * waits for it and then looks again, since the running one may have read the store before
   * the change its caller made (a release just published).
   */
  check(): Promise<boolean> {
    if (!this.checking) return this.begin();
    this.next ??= this.checking
      .catch(() => false)
      .then(() => {
        this.next = null;
        return this.checking ?? this.begin();
      });
    return this.next;
  }

  private begin(): Promise<boolean> {
    this.checking = this.switchIfNeeded().finally(() => (this.checking = null));
    return this.checking;
  }

  private async switchIfNeeded(): Promise<boolean> {
    const head = await currentRelease(this.db);
    if (!head || head.id === this.served.id) return false;
    const release = (await currentRelease(this.db, { files: true }))!;
    const fresh = await openRelease(this.config, release);
    // The same object every component holds gets the new content in one synchronous step.
    Object.assign(this.kb, fresh, { release: release.id });
    this.served = { ...release, files: undefined };
    await this.onSwitch(this.served, this.kb);
    return true;
  }

  start(intervalMs = RELEASE_CHECK_MS, log: Pick<Logger, 'error'> = fallbackLog()): void {
    this.timer = setInterval(() => void this.check().catch((e: Error) => log.error({ err: e }, 'knowledge release check failed')), intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.next?.catch(() => {});
    await this.checking?.catch(() => {});
  }
}
