// TLS to Vault against a real OpenBao in -dev-tls mode (its own CA), started here because the
// shared test bed serves plain http: the configured CA is used, nothing else is trusted, and
// VAULT_SKIP_VERIFY in the environment changes nothing.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BackendError } from '../../src/resilience/errors.ts';
import { createBackends } from '../../src/backends/registry.ts';
import { loadConfig } from '../../src/config/load.ts';
import { binary } from '../support/testbed/paths.ts';
import { secretData } from './contract.ts';

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

describe('vault backend over TLS (OpenBao -dev-tls)', function () {
  this.timeout(60_000);
  let dir: string;
  let bao: ChildProcess | undefined;
  let address: string;
  const trusted = () =>
    loadConfig(
      {
        text: `backends: [{name: v, type: vault, address: "${address}", tls: {caFile: ${dir}/vault-ca.pem}, auth: {token: {value: root}}, allowedNamespaces: ["*"], allowedWritePaths: ["tls/*"]}]`,
      },
      { env: {} },
    );

  before(async function () {
    dir = mkdtempSync(join(tmpdir(), 'vaultsync-bao-tls-'));
    const port = await freePort();
    address = `https://127.0.0.1:${port}`;
    bao = spawn(
      binary('openbao', 'bao'),
      [
        'server',
        '-dev-tls',
        `-dev-tls-cert-dir=${dir}`,
        '-dev-root-token-id=root',
        `-dev-listen-address=127.0.0.1:${port}`,
      ],
      { stdio: 'ignore', detached: true },
    );
    const deadline = Date.now() + 30_000;
    for (;;) {
      try {
        const r = createBackends(await trusted());
        const checks = await r.checkAll();
        await r.close();
        if (checks.get('v') === undefined) break;
      } catch {
        // CA file not written yet
      }
      if (Date.now() > deadline) throw new Error('OpenBao -dev-tls did not start');
      await new Promise((r) => setTimeout(r, 250));
    }
  });

  after(() => {
    if (bao?.pid) {
      try {
        process.kill(-bao.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it('verifies the server against the configured CA', async () => {
    const registry = createBackends(await trusted());
    try {
      const v = registry.get('v')!;
      const written = await v.write(
        { path: 'tls/db', data: secretData({ password: 'pw' }) },
        { namespace: 'n' },
      );
      const read = await v.read({ path: 'tls/db' }, { namespace: 'n' });
      assert.equal(read.version, written.version);
    } finally {
      await registry.close();
    }
  });

  it('refuses a server its CA does not sign, even with VAULT_SKIP_VERIFY set', async () => {
    const saved = process.env.VAULT_SKIP_VERIFY;
    process.env.VAULT_SKIP_VERIFY = 'true';
    const config = await loadConfig(
      {
        text: `backends: [{name: v, type: vault, address: "${address}", auth: {token: {value: root}}, allowedNamespaces: ["*"]}]`,
      },
      { env: {} },
    );
    const registry = createBackends(config);
    try {
      await assert.rejects(
        registry.get('v')!.read({ path: 'tls/db' }, { namespace: 'n' }),
        (err: unknown) => {
          assert.ok(err instanceof BackendError);
          assert.equal(err.code, 'Unavailable');
          assert.equal(err.transient, false);
          assert.match(err.message, /TLS verification failed/);
          return true;
        },
      );
    } finally {
      if (saved === undefined) delete process.env.VAULT_SKIP_VERIFY;
      else process.env.VAULT_SKIP_VERIFY = saved;
      await registry.close();
    }
  });
});
