/**
 * 小安 processes as production runs them (`xiaoan serve`, one OS process each) on one
 * PostgreSQL (a fresh schema per test file: databases.ts freshSchema). Their JSON log lines are
 * kept for the test to read.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { PROJECT_ROOT } from '../../bot/config.ts';

export interface Replica {
  name: string;
  base: string;
  port: number;
  child: ChildProcess;
  /** Every JSON log line it wrote so far. */
  logs: Array<Record<string, unknown>>;
  stop(): Promise<void>;
}

export function startReplica(name: string, env: Record<string, string>): Promise<Replica> {
  const child = spawn(process.execPath, [path.join(PROJECT_ROOT, 'bot', 'cli', 'xiaoan.js'), 'serve'], {
    env: { ...process.env, PORT: '0', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: Array<Record<string, unknown>> = [];
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-4000)));
  return new Promise((resolve, reject) => {
    let rest = '';
    let started = false;
    child.stdout!.on('data', (d: Buffer) => {
      rest += d.toString();
      const lines = rest.split('\n');
      rest = lines.pop()!;
      for (const line of lines) {
        let entry: Record<string, unknown>;
        try {
          entry = JSON.parse(line) as Record<string, unknown>;
        } catch {
          continue;
        }
        logs.push(entry);
        const m = /localhost:(\d+)\//.exec(String(entry.msg ?? ''));
        if (m && !started) {
          started = true;
          const port = Number(m[1]);
          resolve({
            name,
            port,
            base: `http://127.0.0.1:${port}`,
            child,
            logs,
            stop: () =>
              new Promise<void>((done) => {
                if (child.exitCode !== null || child.signalCode !== null) return done();
                child.once('exit', () => done());
                child.kill('SIGTERM');
              }),
          });
        }
      }
    });
    child.once('exit', (code) => {
      if (!started) reject(new Error(`replica ${name} exited with ${code}: ${err}`));
    });
  });
}
