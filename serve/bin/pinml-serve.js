#!/usr/bin/env node
// The `pinml-serve` command (`npm start`). The server is TypeScript; tsx compiles it on load so
// the package runs from a plain clone without a build step (Node 20 cannot strip types itself).
import { register } from 'tsx/esm/api';

register();
const { main, reportFatal } = await import('../main.ts');
try {
  process.exitCode = await main(process.argv.slice(2), process.env);
} catch (err) {
  process.exitCode = reportFatal(err);
}
// Exit once stopped, whatever timers a library left behind.
process.exit();
