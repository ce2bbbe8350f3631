import assert from 'node:assert/strict';
import { loadConfig } from './load.ts';
import { configWarnings } from './warnings.ts';

const load = (text: string) => loadConfig({ text }, { env: {} });

describe('config warnings: api.secretDeletes', () => {
  it('warns when deletes are on but no backend allows a write (every delete would be 403)', async () => {
    const off = await load(`
api: {secretDeletes: true}
backends:
  - {name: mem, type: memory, allowedNamespaces: ["*"], allowedPaths: ["**"]}
`);
    assert.deepEqual(configWarnings(off), [
      'api.secretDeletes: no backend has allowedWritePaths, so every delete is refused (403)',
    ]);
    const writable = await load(`
api: {secretDeletes: true}
backends:
  - {name: mem, type: memory, allowedNamespaces: ["*"], allowedWritePaths: ["{namespace}/**"]}
`);
    assert.deepEqual(configWarnings(writable), []);
    const deletesOff = await load(`
api: {}
backends:
  - {name: mem, type: memory, allowedNamespaces: ["*"]}
`);
    assert.deepEqual(configWarnings(deletesOff), []);
  });
});
