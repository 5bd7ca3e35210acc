#!/usr/bin/env node
// The `xiaoan` command. The project is TypeScript run by tsx, so no build step is needed.
import { register } from 'tsx/esm/api';

register();
await import('./main.ts');
