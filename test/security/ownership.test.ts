// Hostile tenant vs. revocation and Secret ownership (issue 12, "revocation only of what
// vaultsync issued and recorded" and "field ownership"). The shipped operator signs and revokes
// through OpenBao PKI with a policy for nothing but pki/sign/svc and pki/revoke. Tenant B (edit in
// its own namespace) puts tenant A's certificate and issuer into its own certificate Secret and
// then deletes its VaultCertificate (revokeOnDelete), or lets it be replaced (revokeSuperseded):
// A's serial stays unrevoked in OpenBao. A VaultSecret with creationPolicy Merge aimed at a
// VaultCertificate's Secret or a service-account token Secret is refused, and both Secrets stay
// byte for byte as they were.
import assert from 'node:assert/strict';
import { CoreV1Api, type V1Secret } from '@kubernetes/client-node';
import type {
  VaultCertificate,
  VaultCertificateSpec,
  VaultSecret,
  VaultSecretSpec,
} from '../../src/apis/v1alpha1/index.ts';
import { createObject, deleteObject, getObject, mergePatch } from '../../src/kube/index.ts';
import { testbed, type Testbed } from '../support/testbed.ts';
import { baoApi, pkiRole } from '../support/testbed/openbao.ts';
import { eventually } from '../support/wait.ts';
import {
  type ShippedOperator,
  type Tenant,
  createTenant,
  forbiddenLines,
  operatorVaultAuth,
  startShippedOperator,
} from './harness.ts';

const NAME = 'sec-own';
const API = 'vaultsync.io/v1alpha1';
const ISSUER = { backend: 'vault-pki', role: pkiRole.role };

type Kind = 'VaultCertificate' | 'VaultSecret';
type Condition = { status: string; reason?: string; message?: string };

describe('security: revocation and Secret ownership hold against a hostile tenant', function () {
  this.timeout(180_000);
  let bed: Testbed;
  let bao: ReturnType<typeof baoApi>;
  let op: ShippedOperator;
  let a: Tenant;
  let b: Tenant;
  /** Tenant A's certificate: serial (hex) and PEM, which anyone its service talks to can see. */
  let victim: { serial: string; pem: string };

  const ref = (t: Tenant, kind: Kind | 'Secret', name: string) => ({
    apiVersion: kind === 'Secret' ? 'v1' : API,
    kind,
    namespace: t.namespace,
    name,
  });
  /** Created as the tenant; a rerun on a kept bed replaces the tenant's earlier object. */
  async function create<T extends VaultCertificate | VaultSecret>(
    t: Tenant,
    kind: Kind,
    name: string,
    spec: T['spec'],
  ): Promise<T> {
    await deleteObject(t.client, ref(t, kind, name));
    await eventually(`${name} gone`, async () =>
      (await getObject(t.client, ref(t, kind, name))) ? undefined : true,
    );
    return createObject<T>(t.client, {
      apiVersion: API,
      kind,
      metadata: { name, namespace: t.namespace },
      spec,
    } as T);
  }
  const get = <T extends VaultCertificate | VaultSecret>(t: Tenant, kind: Kind, name: string) =>
    getObject<T>(t.client, ref(t, kind, name));
  /** The Ready condition once the resource answered its current generation. */
  const answered = (t: Tenant, kind: Kind, name: string, accept: (c: Condition) => boolean = () => true) =>
    eventually(
      `${kind} ${t.namespace}/${name} answered`,
      async () => {
        const got = await get(t, kind, name);
        const c = got?.status?.conditions?.find((x) => x.type === 'Ready');
        return c && got?.status?.observedGeneration === got?.metadata?.generation && accept(c)
          ? c
          : undefined;
      },
      60_000,
      200,
    );
  const secret = (t: Tenant, name: string) => getObject<V1Secret>(t.client, ref(t, 'Secret', name));
  /** OpenBao's revocation time of a serial (0: not revoked), read with the root token. */
  const revocationTime = async (serial: string) => {
    const res = (await bao('GET', `${pkiRole.mount}/cert/${serial.match(/../g)!.join(':')}`)) as {
      data: { revocation_time: number };
    };
    return res.data.revocation_time;
  };
  /** The Secret as a tenant edits it: A's certificate in tls.crt, and an issuer annotation. */
  const plantVictim = (t: Tenant, name: string, issuer: string) =>
    mergePatch(t.client, ref(t, 'Secret', name), {
      metadata: { annotations: { 'vaultsync.io/issuer': issuer } },
      data: { 'tls.crt': Buffer.from(victim.pem).toString('base64') },
    });
  const certificate = (name: string, extra: Partial<VaultCertificateSpec>): VaultCertificateSpec => ({
    issuer: ISSUER,
    dnsNames: [`${name}.${b.namespace}.svc.cluster.local`],
    duration: '1h',
    secretName: `${name}-tls`,
    ...extra,
  });
  /** Everything about a Secret a write would change. */
  const snapshot = (s: V1Secret | undefined) =>
    JSON.stringify({
      resourceVersion: s?.metadata?.resourceVersion,
      labels: s?.metadata?.labels,
      annotations: s?.metadata?.annotations,
      type: s?.type,
      data: s?.data,
    });

  before(async function () {
    bed = await testbed();
    bao = baoApi({ addr: bed.baoAddr, token: bed.baoToken });
    const auth = await operatorVaultAuth(
      bed,
      NAME,
      [
        `path "${pkiRole.mount}/sign/${pkiRole.role}" { capabilities = ["update"] }`,
        `path "${pkiRole.mount}/revoke" { capabilities = ["update"] }`,
      ].join('\n'),
    );
    op = await startShippedOperator(bed, {
      name: NAME,
      config: `
backends:
  - name: vault-pki
    type: vault-pki
    address: ${bed.baoAddr}
    tls: {insecure: true}
    auth: ${auth}
    allowedNamespaces: ["sec-own-*"]
    allowedRoles: [${pkiRole.role}]
  - name: memory
    type: memory
    allowedNamespaces: ["sec-own-*"]
    allowedPaths: ["{namespace}/**"]
    data:
      sec-own-b/app: {injected: "from-tenant-b"}
`,
    });
    a = await createTenant(bed, 'sec-own-a');
    b = await createTenant(bed, 'sec-own-b');
  });

  after(async () => {
    await op?.stop();
  });

  it('control: tenant A holds a certificate from OpenBao PKI, unrevoked', async () => {
    await create<VaultCertificate>(a, 'VaultCertificate', 'web', {
      issuer: ISSUER,
      dnsNames: [`web.${a.namespace}.svc.cluster.local`],
      duration: '1h',
      secretName: 'web-tls',
    });
    const c = await answered(a, 'VaultCertificate', 'web');
    assert.equal(c.status, 'True', `${c.reason}: ${c.message}`);
    const vc = await get<VaultCertificate>(a, 'VaultCertificate', 'web');
    const tls = await secret(a, 'web-tls');
    const pem = Buffer.from(tls!.data!['tls.crt']!, 'base64').toString();
    victim = { serial: vc!.status!.serialNumber!, pem };
    assert.equal(vc?.status?.issuer, `vault-pki/${pkiRole.role}`);
    assert.equal(await revocationTime(victim.serial), 0);
    console.log(`      tenant A's serial ${victim.serial}: revocation_time 0`);
  });

  it("revokeOnDelete: B plants A's certificate and issuer in its Secret and deletes; only B's own serial is revoked", async () => {
    await create<VaultCertificate>(
      b,
      'VaultCertificate',
      'gone',
      certificate('gone', { revokeOnDelete: true }),
    );
    assert.equal((await answered(b, 'VaultCertificate', 'gone')).status, 'True');
    const own = (await get<VaultCertificate>(b, 'VaultCertificate', 'gone'))!.status!.serialNumber!;
    await plantVictim(b, 'gone-tls', `vault-pki/${pkiRole.role}`);
    await deleteObject(b.client, ref(b, 'VaultCertificate', 'gone'));
    await eventually(
      'VaultCertificate released',
      async () => ((await get(b, 'VaultCertificate', 'gone')) ? undefined : true),
      60_000,
    );
    // What status recorded at deletion: B's first serial, or the one re-issued when the edit
    // was noticed first. Either is B's own; A's is neither.
    const events = await eventually('Revoked event', async () => {
      const list = await b.kubeConfig
        .makeApiClient(CoreV1Api)
        .listNamespacedEvent({ namespace: b.namespace });
      const revoked = list.items.filter((e) => e.involvedObject.name === 'gone' && e.reason === 'Revoked');
      return revoked.length > 0 ? revoked : undefined;
    });
    const revokedSerials = events.map((e) => /certificate ([0-9a-f]+)/.exec(e.message ?? '')?.[1]);
    console.log(`      revoked on deletion: ${revokedSerials.join(', ')} (B's first serial ${own})`);
    assert.ok(!revokedSerials.includes(victim.serial));
    for (const s of revokedSerials) assert.ok((await revocationTime(s!)) > 0, `${s} revoked in OpenBao`);
    assert.equal(await revocationTime(victim.serial), 0, "A's serial is unrevoked");
    console.log(
      `      tenant A's serial ${victim.serial}: revocation_time ${await revocationTime(victim.serial)}`,
    );
  });

  it("revokeSuperseded: B's Secret edited to A's certificate is re-issued, and only B's previous serial revoked", async () => {
    await create<VaultCertificate>(
      b,
      'VaultCertificate',
      'swap',
      certificate('swap', { revokeSuperseded: true }),
    );
    assert.equal((await answered(b, 'VaultCertificate', 'swap')).status, 'True');
    const first = (await get<VaultCertificate>(b, 'VaultCertificate', 'swap'))!.status!.serialNumber!;
    // The issuer annotation is pointed at another role too: revocation goes where status says.
    await plantVictim(b, 'swap-tls', `vault-pki/other`);
    const second = await eventually('re-issued', async () => {
      const s = (await get<VaultCertificate>(b, 'VaultCertificate', 'swap'))?.status?.serialNumber;
      return s && s !== first ? s : undefined;
    });
    await eventually('B’s first serial revoked', async () =>
      (await revocationTime(first)) > 0 ? true : undefined,
    );
    const tls = await secret(b, 'swap-tls');
    assert.notEqual(
      Buffer.from(tls!.data!['tls.crt']!, 'base64').toString(),
      victim.pem,
      'A’s certificate is gone',
    );
    assert.equal(tls?.metadata?.annotations?.['vaultsync.io/issuer'], `vault-pki/${pkiRole.role}`);
    assert.equal(await revocationTime(second), 0);
    assert.equal(await revocationTime(victim.serial), 0, "A's serial is unrevoked");
    console.log(
      `      B's superseded ${first} revoked; B's new ${second} and tenant A's ${victim.serial}: revocation_time 0`,
    );
  });

  async function mergeRefused(t: Tenant, name: string, target: string): Promise<Condition> {
    const spec: VaultSecretSpec = {
      backend: 'memory',
      data: [{ secretKey: 'injected', remoteRef: { path: `${t.namespace}/app`, property: 'injected' } }],
      target: { name: target, creationPolicy: 'Merge', deletionPolicy: 'Delete' },
    };
    await create<VaultSecret>(t, 'VaultSecret', name, spec);
    const c = await answered(t, 'VaultSecret', name);
    console.log(`      refused: ${c.reason}: ${c.message}`);
    return c;
  }
  /** Waits a little (what a write would take), deletes the VaultSecret (its clean-up runs too). */
  async function settleAndDelete(t: Tenant, name: string): Promise<void> {
    await new Promise((r) => setTimeout(r, 2000));
    await deleteObject(t.client, ref(t, 'VaultSecret', name));
    await eventually(
      `${name} deleted`,
      async () => ((await get(t, 'VaultSecret', name)) ? undefined : true),
      30_000,
    );
  }

  it("Merge into a VaultCertificate's Secret: refused, the Secret byte for byte unchanged", async () => {
    const before = snapshot(await secret(b, 'swap-tls'));
    const c = await mergeRefused(b, 'grab-cert', 'swap-tls');
    assert.equal(c.status, 'False');
    assert.equal(c.reason, 'MergeRefused');
    assert.match(c.message ?? '', /written by VaultCertificate swap/);
    await settleAndDelete(b, 'grab-cert');
    assert.equal(snapshot(await secret(b, 'swap-tls')), before);
  });

  it('Merge into a certificate Secret whose labels the tenant removed: refused by its field manager', async () => {
    await mergePatch(b.client, ref(b, 'Secret', 'gone-tls'), {
      metadata: { labels: { 'app.kubernetes.io/managed-by': null, 'vaultsync.io/vaultcertificate': null } },
    });
    const before = snapshot(await secret(b, 'gone-tls'));
    const c = await mergeRefused(b, 'grab-unlabelled', 'gone-tls');
    assert.equal(c.reason, 'MergeRefused');
    assert.match(c.message ?? '', /field manager vaultsync-certificate/);
    await settleAndDelete(b, 'grab-unlabelled');
    assert.equal(snapshot(await secret(b, 'gone-tls')), before);
  });

  it('Merge into a service-account-token Secret: refused, the Secret byte for byte unchanged', async () => {
    const token = ref(b, 'Secret', 'tenant-token');
    await deleteObject(b.client, token);
    await eventually('old token Secret gone', async () =>
      (await getObject(b.client, token)) ? undefined : true,
    );
    await createObject<V1Secret>(b.client, {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: {
        name: 'tenant-token',
        namespace: b.namespace,
        annotations: { 'kubernetes.io/service-account.name': b.serviceAccount },
      },
      type: 'kubernetes.io/service-account-token',
    });
    // kube-controller-manager's token controller fills it in.
    const filled = await eventually('token filled in', async () => {
      const s = await secret(b, 'tenant-token');
      return s?.data?.token ? s : undefined;
    });
    const before = snapshot(filled);
    const c = await mergeRefused(b, 'grab-token', 'tenant-token');
    assert.equal(c.status, 'False');
    assert.equal(c.reason, 'MergeRefused');
    assert.match(c.message ?? '', /type kubernetes\.io\/service-account-token/);
    await settleAndDelete(b, 'grab-token');
    const after = await secret(b, 'tenant-token');
    assert.equal(snapshot(after), before);
    assert.deepEqual(Object.keys(after?.data ?? {}).sort(), ['ca.crt', 'namespace', 'token']);
  });

  it('the operator logged no refusal it was not asked for, and no key material', () => {
    assert.deepEqual(forbiddenLines(op.logs), []);
    assert.equal(op.logs.filter((l) => l.includes('PRIVATE KEY') || l.includes('from-tenant-b')).length, 0);
  });
});
