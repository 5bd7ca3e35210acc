// npm links the bins of dependencies, not the project's own; link ours so that
// `npx xiaoan` works right after `npm install` (run as the "prepare" script).
import { chmodSync, mkdirSync, rmSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const binDir = path.join(root, 'node_modules', '.bin');
const target = path.join(root, 'bot', 'cli', 'xiaoan.js');
mkdirSync(binDir, { recursive: true });
const link = path.join(binDir, 'xiaoan');
rmSync(link, { force: true });
symlinkSync(path.relative(binDir, target), link);
chmodSync(target, 0o755);
