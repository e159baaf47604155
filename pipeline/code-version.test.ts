import { describe, expect, it } from 'vitest';

import { codeVersionOf, modelSourceFiles } from './code-version.ts';

describe('code version', () => {
  it('hashes every model source, the WebAssembly walk included, and no test', async () => {
    const files = await modelSourceFiles();
    expect(files).toContain('models/random-forest.ts');
    expect(files).toContain('models/flat-forest.ts');
    expect(files).toContain('models/wasm/forest-walk.wasm.ts');
    expect(files).toContain('models/wasm/forest-walk.ts');
    expect(files.filter((f) => f.endsWith('.test.ts'))).toEqual([]);
    expect(files.filter((f) => f.startsWith('models/fixtures/'))).toEqual([]);
    expect(files).toEqual([...files].sort());
  });

  it('changes when one source byte changes, and not with line endings', () => {
    const libs = new Map([['ml-matrix', '6.15.1']]);
    const base = codeVersionOf('0.1.0', new Map([['models/a.ts', 'x\n']]), libs);
    expect(base.id).toMatch(/^0\.1\.0\+[0-9a-f]{16}$/);
    expect(codeVersionOf('0.1.0', new Map([['models/a.ts', 'y\n']]), libs).id).not.toBe(base.id);
    expect(codeVersionOf('0.1.0', new Map([['models/a.ts', 'x\r\n']]), libs).id).toBe(base.id);
  });
});
