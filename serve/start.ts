/**
 * Starts the server from the command line: `serve/bin/pinml-serve.js` imports it from source
 * (through tsx), and it is the entry point of the bundle `npm start` runs
 * (`serve/scripts/build.ts` → `serve/dist/pinml-serve.js`).
 */
import { main, reportFatal } from './main.ts';

try {
  process.exitCode = await main(process.argv.slice(2), process.env);
} catch (err) {
  process.exitCode = reportFatal(err);
}
// Exit once stopped, whatever timers a library left behind.
process.exit();
