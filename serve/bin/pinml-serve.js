#!/usr/bin/env node
// The `pinml-serve` command from source: tsx compiles the TypeScript on load, so a plain clone
// runs without a build step (Node 20 cannot strip types itself). `npm start` runs the bundle
// instead (`npm run build:serve` → serve/dist/pinml-serve.js): no compiler in the process.
import { register } from 'tsx/esm/api';

register();
await import('../start.ts');
