/** A progress bar on stderr for long work; silent when stderr is not a terminal. */
import cliProgress from 'cli-progress';
import type { Progress } from '../../knowledge-base/knowledge-index.ts';

export function progressBar(label: string): { update: Progress; stop: () => void } {
  if (!process.stderr.isTTY) return { update: () => {}, stop: () => {} };
  const bar = new cliProgress.SingleBar(
    { format: `${label} [{bar}] {percentage}% {value}/{total} {stage}`, stream: process.stderr, hideCursor: true },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  return {
    update: (done, total, stage) => {
      if (!started) {
        bar.start(total, 0, { stage });
        started = true;
      }
      bar.setTotal(total);
      bar.update(done, { stage });
    },
    stop: () => started && bar.stop(),
  };
}
