import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readSecretFile } from './files.ts';

describe('readSecretFile', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'vaultsync-files-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('reads a secret wrapped, without its trailing newline', async () => {
    writeFileSync(join(dir, 'token'), 'hvs.FILETOKEN\n');
    const s = await readSecretFile(join(dir, 'token'));
    assert.equal(s.reveal(), 'hvs.FILETOKEN');
    assert.equal(String(s), '[REDACTED]');
  });

  it('fails with the path and the errno code only', async () => {
    await assert.rejects(readSecretFile(join(dir, 'missing')), {
      message: `cannot read ${join(dir, 'missing')}: ENOENT`,
    });
  });
});
