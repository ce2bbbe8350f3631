// The certificates scenario's workload and its baseline: the plain loop, the same useful work
// without an operator done the simple way — a key, a CSR, OpenBao's pki/sign/<role> (the bed's
// admin token), one Secret create — `width` certificates in flight, the same width as the
// operator's workers. Its CSRs come from the same desired certificate the operator computes.
// Its `floor` variant adds what any operator must cost beyond the plain loop: the user's
// VaultCertificate creates (at the harness's concurrency, alongside, as in the operator run; a
// certificate starts once its create is answered) and one status write per certificate.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { VaultCertificate } from '../../src/apis/v1alpha1/index.ts';
import { desiredCertificate } from '../../src/controllers/vaultcertificate/spec.ts';
import { createObject, patchStatus } from '../../src/kube/index.ts';
import { certificateInfo } from '../../src/pki/index.ts';
import { type KeySpec, createCsr, generatePrivateKey } from '../../src/pki/index.ts';
import type { Counts } from './counters.ts';
import { type BenchContext, deleteAllBestEffort, inParallel, secretsOf } from './workload.ts';

export const ISSUER = { backend: 'vault-pki', role: 'svc' } as const;

/** The `issuers:` config the operator runs with: OpenBao PKI, namespaces bench-cert*. */
export const certificateIssuers = (baoAddr: string, baoToken: string): string => `
issuers:
  - name: ${ISSUER.backend}
    type: vault-pki
    address: ${baoAddr}
    tls: {insecure: true}
    auth: {token: {value: ${baoToken}}}
    allowedNamespaces: ["bench-cert*"]
    rateLimit: {qps: 2000, burst: 2000}
`;

/** Certificate `i` of namespace `ns`: a name of the namespace's own (the issuer's name policy). */
export function benchCertificate(ns: string, i: number, key: KeySpec): VaultCertificate {
  return {
    apiVersion: 'vaultsync.io/v1alpha1',
    kind: 'VaultCertificate',
    metadata: { name: `c-${i}`, namespace: ns },
    spec: {
      issuer: { ...ISSUER },
      dnsNames: [`c-${i}.${ns}.svc.cluster.local`],
      duration: '24h',
      privateKey: { algorithm: key.algorithm, ...(key.size ? { size: key.size } : {}) },
      secretName: `c-${i}-tls`,
    },
  } as VaultCertificate;
}

export interface LoopRun {
  seconds: number;
  /** Per certificate: its key generation started → its Secret create answered (no queue wait). */
  latenciesMs: number[];
  /** This (the bench's) process's event-loop delay during the loop, for comparison. */
  loop: { p50Ms: number; p99Ms: number; maxMs: number };
  counts: Counts;
}

/** The status a floor run writes: what the operator records for a certificate it issued. */
function issuedStatus(certificatePem: string): Record<string, unknown> {
  const cert = certificateInfo(certificatePem);
  const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  return {
    conditions: [
      {
        type: 'Ready',
        status: 'True',
        reason: 'Issued',
        message: 'Certificate is up to date',
        lastTransitionTime: now,
      },
    ],
    notBefore: cert.notBefore.toISOString(),
    notAfter: cert.notAfter.toISOString(),
    renewalTime: cert.notAfter.toISOString(),
    serialNumber: cert.serialNumber,
    issuer: `${ISSUER.backend}/${ISSUER.role}`,
    revision: 1,
    certificateMAC: 'v1:floor',
    observedGeneration: 1,
  };
}

/**
 * The VaultCertificates created as the operator run creates them (the harness's concurrency,
 * alongside the issuing): one promise per certificate, settled when its create is answered.
 */
function createAll(ctx: BenchContext, ns: string, count: number, key: KeySpec): Promise<unknown>[] {
  const done = Array.from({ length: count }, () => Promise.withResolvers<void>());
  void inParallel(
    Array.from({ length: count }, (_, i) => i),
    ctx.concurrency,
    async (i) => {
      await createObject(ctx.client, benchCertificate(ns, i, key)).then(
        () => done[i]!.resolve(),
        (err: unknown) => done[i]!.reject(err),
      );
    },
  );
  // Awaited in order by the loop; a rejection seen later must not count as unhandled now.
  for (const d of done) d.promise.catch(() => undefined);
  return done.map((d) => d.promise);
}

/**
 * The plain loop: `count` certificates in `ns`, `width` at a time; its Secrets (and with `floor`
 * its VaultCertificates) deleted after.
 */
export async function plainLoop(
  ctx: BenchContext,
  ns: string,
  count: number,
  key: KeySpec,
  width: number,
  floor = false,
): Promise<LoopRun> {
  const latenciesMs: number[] = [];
  const delay = monitorEventLoopDelay({ resolution: 10 });
  const mark = await ctx.counters.mark();
  delay.enable();
  const start = performance.now();
  const created = floor ? createAll(ctx, ns, count, key) : undefined;
  await inParallel(
    Array.from({ length: count }, (_, i) => i),
    width,
    async (i) => {
      await created?.[i];
      const t0 = performance.now();
      const vc = benchCertificate(ns, i, key);
      const { request } = desiredCertificate(vc);
      const privateKey = await generatePrivateKey(key);
      const csr = (await createCsr(request, privateKey)).pem;
      const signed = (await ctx.bao('POST', `pki/sign/${ISSUER.role}`, {
        csr,
        common_name: request.dnsNames[0],
        alt_names: request.dnsNames.join(','),
        ttl: vc.spec.duration,
        format: 'pem',
      })) as { data: { certificate: string; issuing_ca: string } };
      await createObject(ctx.client, {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: vc.spec.secretName, namespace: ns },
        type: 'kubernetes.io/tls',
        stringData: {
          'tls.crt': signed.data.certificate,
          'tls.key': privateKey.pem().reveal(),
          'ca.crt': signed.data.issuing_ca,
        },
      });
      if (floor)
        await patchStatus(
          ctx.client,
          { apiVersion: vc.apiVersion, kind: vc.kind, namespace: ns, name: vc.metadata!.name! },
          issuedStatus(signed.data.certificate),
        );
      latenciesMs.push(performance.now() - t0);
    },
  );
  const seconds = (performance.now() - start) / 1000;
  delay.disable();
  const counts = await ctx.counters.since(mark);
  await deleteAllBestEffort(ctx, secretsOf(ns));
  if (floor) await deleteAllBestEffort(ctx, `/apis/vaultsync.io/v1alpha1/namespaces/${ns}/vaultcertificates`);
  return {
    seconds,
    latenciesMs,
    loop: { p50Ms: delay.percentile(50) / 1e6, p99Ms: delay.percentile(99) / 1e6, maxMs: delay.max / 1e6 },
    counts,
  };
}
