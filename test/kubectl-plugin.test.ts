// kubectl vaultsync against the real bed, as a tenant: the operator runs as shipped, the
// tenant's ServiceAccount holds only the built-in `edit` role in its namespace, and every
// command runs with the tenant's own kubeconfig — status, sync, rotate, renew, why and inspect,
// in text and JSON, once through `kubectl vaultsync` itself (kubectl finds the plugin on PATH).
// A canary value is planted in OpenBao: no output may contain it, a generated value, or the key.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import type { V1Secret } from '@kubernetes/client-node';
import type { SecretRotation, VaultCertificate, VaultSecret } from '../src/apis/v1alpha1/index.ts';
import { runCli } from '../src/cli/program.ts';
import { type KubeClient, createKubeClient, createObject, getObject } from '../src/kube/index.ts';
import { createTenant, type Tenant } from './security/harness.ts';
import { installCrds } from './support/crds.ts';
import { backendsYaml, startTestOperator, type TestOperator } from './support/operator.ts';
import { testbed, type Testbed } from './support/testbed.ts';
import { baoApi } from './support/testbed/openbao.ts';
import { binary } from './support/testbed/paths.ts';
import { eventually } from './support/wait.ts';

const run = promisify(execFile);
const ns = 'team-kubectl';
const API = 'vaultsync.io/v1alpha1';
const canary = `canary-${Math.random().toString(36).slice(2)}-kubectl`;
const PLUGIN = resolve('src/cli/kubectl-vaultsync.ts');

interface KvRead {
  data: { data: Record<string, string>; metadata: { version: number } };
}

describe('kubectl vaultsync: every command against the real bed, as a tenant with edit', function () {
  this.timeout(180_000);
  let bed: Testbed;
  let admin: KubeClient;
  let operator: TestOperator;
  let tenant: Tenant;
  let bao: ReturnType<typeof baoApi>;
  let dir: string;
  let kubeconfigFile: string;
  /** Everything any command printed, searched for secret material at the end. */
  const printed: string[] = [];

  async function plugin(...args: string[]): Promise<{ code: number; out: string; err: string }> {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runCli(['--kubeconfig', kubeconfigFile, '-n', ns, ...args], {
      stdout: (t) => out.push(t),
      stderr: (t) => err.push(t),
      pollMs: 100,
    });
    const result = { code, out: out.join(''), err: err.join('') };
    printed.push(result.out, result.err);
    return result;
  }
  const kvRead = (path: string) => bao('GET', `secret/data/${path}`) as Promise<KvRead>;
  const get = <T extends VaultSecret | VaultCertificate | SecretRotation>(kind: T['kind'], name: string) =>
    getObject<T>(admin, { apiVersion: API, kind, namespace: ns, name });
  const readyReason = async (kind: 'VaultSecret' | 'VaultCertificate' | 'SecretRotation', name: string) =>
    (await get(kind, name))?.status?.conditions?.find((c) => c.type === 'Ready')?.reason;

  before(async () => {
    bed = await testbed();
    await installCrds(bed.kubeConfig());
    admin = createKubeClient(bed.kubeConfig());
    bao = baoApi({ addr: bed.baoAddr, token: bed.baoToken });
    operator = await startTestOperator(bed, {
      config: `${backendsYaml(bed)}
  - name: local-ca
    type: local-ca
    allowedNamespaces: ["team-*"]
    allowedDomains: ["**.{namespace}.svc"]
`,
      // The tenancy refusal this test provokes on purpose.
      allowForbidden: /TenancyDenied/,
    });
    tenant = await createTenant(bed, ns);
    dir = mkdtempSync(join(tmpdir(), 'kubectl-vaultsync-'));
    kubeconfigFile = join(dir, 'tenant.kubeconfig');
    writeFileSync(kubeconfigFile, tenant.kubeConfig.exportConfig());

    await bao('POST', `secret/data/${ns}/db`, { data: { password: canary } });
    const create = (obj: VaultSecret | VaultCertificate | SecretRotation) => createObject(tenant.client, obj);
    await create({
      apiVersion: API,
      kind: 'VaultSecret',
      metadata: { name: 'db', namespace: ns },
      spec: {
        backend: 'vault',
        data: [{ secretKey: 'password', remoteRef: { path: `${ns}/db`, property: 'password' } }],
      },
    });
    await create({
      apiVersion: API,
      kind: 'VaultSecret',
      metadata: { name: 'denied', namespace: ns },
      spec: { backend: 'vault', dataFrom: [{ extract: { path: 'team-other/db' } }] },
    });
    await create({
      apiVersion: API,
      kind: 'VaultCertificate',
      metadata: { name: 'web', namespace: ns },
      spec: { issuer: { backend: 'local-ca' }, secretName: 'web-tls', dnsNames: [`web.${ns}.svc`] },
    });
    await create({
      apiVersion: API,
      kind: 'SecretRotation',
      metadata: { name: 'pw', namespace: ns },
      spec: {
        backend: 'vault',
        path: `${ns}/pw`,
        interval: '720h',
        generate: { password: { type: 'password' } },
      },
    } as SecretRotation);
    let seen = '';
    await eventually(
      'every resource answered',
      async () => {
        const reasons = await Promise.all([
          readyReason('VaultSecret', 'db'),
          readyReason('VaultSecret', 'denied'),
          readyReason('VaultCertificate', 'web'),
          readyReason('SecretRotation', 'pw'),
        ]);
        seen = reasons.join();
        return seen === 'Synced,TenancyDenied,Issued,Rotated' ? true : undefined;
      },
      60_000,
    ).catch((err: Error) => {
      throw new Error(`${err.message}: ${seen}\n${operator.logs.slice(-20).join('')}`);
    });
  });

  after(async () => {
    await operator?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('status: every resource of the namespace with Ready, reason, last sync and what comes next', async () => {
    const { code, out } = await plugin('status');
    assert.equal(code, 0);
    const lines = out.trimEnd().split('\n');
    assert.match(lines[0]!, /^KIND\s+NAME\s+READY\s+REASON\s+LAST SYNC\s+NEXT$/);
    assert.match(out, /\nVaultSecret\s+db\s+True\s+Synced\s+\d+s ago\s+refresh in (59|60)m\n/);
    assert.match(out, /\nVaultSecret\s+denied\s+False\s+TenancyDenied\s+-\s+refresh not read yet\n/);
    assert.match(out, /\nVaultCertificate\s+web\s+True\s+Issued\s+\d+s ago\s+renewal in \d+d\n/);
    assert.match(out, /\nSecretRotation\s+pw\s+True\s+Rotated\s+\d+s ago\s+rotation in (29|30)d\n/);

    const json = JSON.parse((await plugin('status', '-o', 'json')).out) as {
      items: { name: string; reason: string }[];
    };
    assert.deepEqual(
      json.items.map((r) => `${r.name}:${r.reason}`),
      ['db:Synced', 'denied:TenancyDenied', 'web:Issued', 'pw:Rotated'],
    );
  });

  it('status -A: the tenant may not list other namespaces, and the plugin does not pretend otherwise', async () => {
    const { code, err } = await plugin('status', '-A');
    assert.equal(code, 1);
    assert.match(err, /^error: forbidden: .*cannot list resource "vaultsecrets"/);
  });

  it('sync --wait: the new backend value is in the Secret when the command returns', async () => {
    await bao('POST', `secret/data/${ns}/db`, { data: { password: `${canary}-2` } });
    const { code, out } = await plugin('sync', 'db', '--wait');
    assert.equal(code, 0, out);
    assert.equal(out, 'vaultsecret/db synced\n');
    const secret = await getObject<V1Secret>(admin, {
      apiVersion: 'v1',
      kind: 'Secret',
      namespace: ns,
      name: 'db',
    });
    assert.equal(Buffer.from(secret!.data!.password!, 'base64').toString(), `${canary}-2`);
  });

  it('rotate --wait: one new backend version, answered', async () => {
    const before = (await kvRead(`${ns}/pw`).catch(() => undefined))?.data.metadata.version ?? 0;
    const { code, out } = await plugin('rotate', 'pw', '--wait', '--timeout', '90s', '-o', 'json');
    assert.equal(code, 0, out);
    const result = JSON.parse(out) as { state: string; kind: string; token: string };
    assert.equal(result.state, 'Done');
    assert.equal(result.kind, 'SecretRotation');
    const after = await kvRead(`${ns}/pw`);
    assert.equal(after.data.metadata.version, before + 1);
    printed.push(`generated:${after.data.data.password}`);
  });

  it('renew --wait: a new certificate (new serial, next revision), Ready all along', async () => {
    const old = (await get<VaultCertificate>('VaultCertificate', 'web'))!.status!;
    const { code, out } = await plugin('renew', 'web', '--wait');
    assert.equal(code, 0, out);
    assert.equal(out, 'vaultcertificate/web renewed\n');
    const now = (await get<VaultCertificate>('VaultCertificate', 'web'))!.status!;
    assert.notEqual(now.serialNumber, old.serialNumber);
    assert.equal(now.revision, (old.revision ?? 0) + 1);
    assert.ok(now.renewNowHandled?.startsWith('sha256:'));
  });

  it('why: the tenancy rule that refused, the next retry and the Warning event', async () => {
    const { code, out } = await plugin('why', 'vaultsecret/denied');
    assert.equal(code, 0);
    assert.match(out, /^VaultSecret team-kubectl\/denied: Ready=False\n/);
    assert.match(out, /Refused by:\s+the tenancy rules of backend "vault"\n/);
    assert.match(
      out,
      /Rule:\s+allowedPaths: \{namespace\}\/\*\*, shared\/\*\*; for this namespace: team-kubectl\/\*\*, shared\/\*\*\n/,
    );
    assert.match(out, /Next retry:\s+in [1-5]m /);
    assert.match(out, /Warning\s+TenancyDenied\s+path "team-other\/db" is not allowed/);

    const json = JSON.parse((await plugin('why', 'vsecret/denied', '-o', 'json')).out) as {
      healthy: boolean;
      refusedBy: { by: string; backend: string };
      nextRetry: { at: string };
    };
    assert.equal(json.healthy, false);
    assert.deepEqual([json.refusedBy.by, json.refusedBy.backend], ['tenancy', 'vault']);
    assert.ok(Date.parse(json.nextRetry.at) > Date.now());

    const fine = await plugin('why', 'vaultsecret/db');
    assert.match(fine.out, /^VaultSecret team-kubectl\/db: nothing to explain, Ready=True\n/);
    const missing = await plugin('why', 'vaultcertificate/nope');
    assert.equal(missing.code, 1);
    assert.match(missing.err, /VaultCertificate "nope" not found in namespace "team-kubectl"/);
  });

  it('inspect certificate: chain, names, expiry and issuer from the TLS Secret, never the key', async () => {
    const vc = (await get<VaultCertificate>('VaultCertificate', 'web'))!;
    const { code, out } = await plugin('inspect', 'certificate', 'web');
    assert.equal(code, 0);
    assert.match(out, /^VaultCertificate team-kubectl\/web, Secret web-tls\n/);
    assert.match(out, /Issued by:\s+local-ca \(revision 2\)/);
    assert.match(out, new RegExp(`Serial:\\s+${vc.status!.serialNumber}\n`));
    assert.match(out, /Names:\s+web.team-kubectl.svc\n/);
    assert.match(out, /Private key:\s+present in tls.key \(not shown\)/);
    assert.match(out, /CA 1 \(ca.crt\):\n\s+Subject:/);
    const yaml = (await plugin('inspect', 'certificate', 'web', '-o', 'yaml')).out;
    assert.match(yaml, new RegExp(`serialNumber: ${vc.status!.serialNumber}\n`));
  });

  it('runs as `kubectl vaultsync` from PATH (the npm bin, Node 24 on PATH)', async () => {
    const bin = join(dir, 'bin');
    mkdirSync(bin);
    symlinkSync(PLUGIN, join(bin, 'kubectl-vaultsync'));
    const env = {
      ...process.env,
      PATH: `${bin}:${dirname(process.execPath)}:${process.env.PATH}`,
      KUBECONFIG: kubeconfigFile,
    };
    const kubectl = binary('kubernetes', 'kubectl');
    const { stdout } = await run(kubectl, ['vaultsync', 'status', '-n', ns], { env });
    printed.push(stdout);
    assert.match(stdout, /\nVaultSecret\s+db\s+True\s+Synced\s/);
    const list = await run(kubectl, ['plugin', 'list'], { env }).catch((e: { stdout: string }) => e);
    assert.match(list.stdout, /kubectl-vaultsync/);
  });

  it('prints no secret value, generated value or key material, in any format', async () => {
    const tls = await getObject<V1Secret>(admin, {
      apiVersion: 'v1',
      kind: 'Secret',
      namespace: ns,
      name: 'web-tls',
    });
    const keyPem = Buffer.from(tls!.data!['tls.key']!, 'base64').toString();
    const keyLine = keyPem.split('\n')[1]!;
    const generated = printed.find((p) => p.startsWith('generated:'))!.slice('generated:'.length);
    const outputs = printed.filter((p) => !p.startsWith('generated:')).join('\n');
    assert.ok(outputs.length > 1000, 'the commands printed something');
    for (const [what, value] of [
      ['the canary', canary],
      ['the generated password', generated],
      ['tls.key (PEM)', keyLine],
      ['tls.key (base64)', tls!.data!['tls.key']!.slice(0, 40)],
    ] as const) {
      assert.ok(!outputs.includes(value), `${what} appeared in the plugin's output`);
    }
  });
});
