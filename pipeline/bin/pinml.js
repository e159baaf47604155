#!/usr/bin/env node
// The `pinml` command. The CLI is TypeScript; tsx compiles it on load so the package runs
// from a plain clone without a build step (Node 20 cannot strip types itself).
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
