/**
 * Crash injection for the crash test (`crash.test.ts`), loaded into a `pinml` process with
 * `node --import`: every file write under `PINML_CRASH_DIR` (a write, half a write, a rename,
 * a link, an unlink) and every HTTP exchange (before a request is sent, when its answer has
 * come) is a step, named `<kind>#<n>` (the n-th step of that kind, `stepKind`), and the
 * process kills itself with SIGKILL — no cleanup, no `finally`, as a power cut or the OOM
 * killer would — when it reaches the step `PINML_CRASH_AT` names. With `PINML_CRASH_LOG`
 * each step is appended there first, so a run with no crash lists the steps a registration
 * takes.
 *
 * Test helper only: product code never imports it.
 */
import { appendFileSync } from 'node:fs';
import fs from 'node:fs';

const at = process.env.PINML_CRASH_AT ?? '';
const log = process.env.PINML_CRASH_LOG;
const dir = process.env.PINML_CRASH_DIR ?? '/nonexistent';
const seen = new Map<string, number>();

/**
 * A step's name without what changes from run to run (object ids, temporary file names,
 * version numbers), so a step of one registration names the same step of the next one.
 */
export function stepKind(what: string): string {
  return what
    .replace(/objects\/[0-9a-f]{2}\/[0-9a-f]{38}/g, 'objects/*/<oid>')
    .replace(/objects\/[0-9a-f]{2}\//g, 'objects/*/')
    .replace(/pinml-[0-9a-f]{8}-\d+(-\d+)?/g, 'pinml-*')
    .replace(/versions\/\d+/g, 'versions/*');
}

/** The step `what` is reached: `<kind>#<n>` for its n-th occurrence; the target kills. */
function reach(what: string): void {
  const kind = stepKind(what);
  const n = (seen.get(kind) ?? 0) + 1;
  seen.set(kind, n);
  const step = `${kind}#${n}`;
  if (log !== undefined) appendFileSync(log, `${step}\n`);
  if (step === at) process.kill(process.pid, 'SIGKILL');
}

/** Whether the next step reached would be the target (for the half-write). */
function nextIs(what: string): boolean {
  const kind = stepKind(what);
  return `${kind}#${(seen.get(kind) ?? 0) + 1}` === at;
}

const inside = (file: unknown): file is string => typeof file === 'string' && file.startsWith(dir);
const name = (file: string): string => file.slice(dir.length + 1);
const p = fs.promises;

const writeFile = p.writeFile.bind(p);
p.writeFile = (async (file: unknown, data: unknown, options?: unknown) => {
  if (!inside(file)) return writeFile(file as string, data as string, options as undefined);
  reach(`write ${name(file)}`);
  const bytes = typeof data === 'string' ? Buffer.from(data) : (data as Uint8Array);
  if (nextIs(`half-write ${name(file)}`) && bytes.length > 1) {
    // Half the bytes reach the disk, then the process dies.
    await writeFile(file, bytes.subarray(0, bytes.length >> 1), options as undefined);
  }
  reach(`half-write ${name(file)}`);
  return writeFile(file, data as string, options as undefined);
}) as typeof p.writeFile;

for (const method of ['rename', 'link'] as const) {
  const original = p[method].bind(p);
  p[method] = (async (from: string, to: string) => {
    if (inside(to)) reach(`${method} ${name(from)} -> ${name(to)}`);
    return original(from, to);
  }) as typeof p.rename;
}
const unlink = p.unlink.bind(p);
p.unlink = async (file) => {
  if (inside(file)) reach(`unlink ${name(file)}`);
  return unlink(file);
};

const realFetch = globalThis.fetch.bind(globalThis);
globalThis.fetch = async (input, init) => {
  const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
  const what = `${init?.method ?? 'GET'} ${new URL(url).pathname.replace(/^.*\.git\//, '')}`;
  reach(`send ${what}`);
  const response = await realFetch(input, init);
  reach(`answer ${what} ${response.status}`);
  return response;
};
