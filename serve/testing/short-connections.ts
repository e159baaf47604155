/**
 * Run as `node --expose-gc --import tsx serve/testing/short-connections.ts <repo> <bursts> <n>`:
 * serves `<repo>` in this process, sends `<bursts>` bursts of `<n>` predictions, each on a
 * connection of its own (`Connection: close`, 8 at a time), and after each burst prints one JSON
 * line with the heap used after a full garbage collection and the resident memory. The
 * short-connection test reads them. Test helper only.
 */
import { Agent, request } from 'node:http';

import { startServer } from './server.ts';

const [repo, bursts, n] = process.argv.slice(2);
const server = await startServer({ repo: repo as string, pollMs: 0 });
const agent = new Agent({ keepAlive: false, maxSockets: 8 });
const body = JSON.stringify({
  inputs: { sepal_length: 6.1, sepal_width: 2.8, petal_length: 4.7, petal_width: 1.2 },
});
const predict = (): Promise<void> =>
  new Promise((resolve, reject) => {
    const req = request(
      `${server.url}/predict`,
      {
        method: 'POST',
        agent,
        headers: { 'content-type': 'application/json', connection: 'close' },
      },
      (res) => {
        res.resume();
        res.on('end', () =>
          res.statusCode === 200 && res.headers.connection === 'close'
            ? resolve()
            : reject(new Error(`answered ${res.statusCode} ${res.headers.connection}`)),
        );
      },
    );
    req.on('error', reject);
    req.end(body);
  });
const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error('run with --expose-gc');
for (let b = 0; b < Number(bursts); b++) {
  let next = 0;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (next++ < Number(n)) await predict();
    }),
  );
  // Let the closed sockets' callbacks run before collecting.
  await new Promise((r) => setTimeout(r, 50));
  gc();
  gc();
  const m = process.memoryUsage();
  process.stdout.write(
    `${JSON.stringify({ connections: (b + 1) * Number(n), heap: m.heapUsed, rss: m.rss })}\n`,
  );
}
agent.destroy();
await server.close();
