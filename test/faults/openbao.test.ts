// OpenBao faults (issue 14, Deliver 8): frozen, sealed, rate-limited (429) and short-lived tokens,
// against a PRIVATE bed (these cases break OpenBao, so later test files must not share it) with the
// operator as shipped (chart ServiceAccount and RBAC; OpenBao through Kubernetes auth with a
// least-privilege policy) and VaultSecrets whose backend values are canaries. Every Secret
// version the apiserver stores is watched and compared with backend truth (backend-truth.ts).
//
// OpenBao runs in dev mode (in-memory storage that lives as long as the process): sealing keeps
// the data, and the single unseal key dev mode prints in its log unseals it again.
// Requests during a fault come from the operator's metrics endpoint (backend-requests.ts: sent
// past the circuit breaker and the local rate limit); for the token case from OpenBao's audit
// device, which also shows every request it refused.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { isDeepStrictEqual } from 'node:util';
import type { V1Secret } from '@kubernetes/client-node';
import type { VaultSecret } from '../../src/apis/v1alpha1/index.ts';
import { type KubeClient, createKubeClient, createObject } from '../../src/kube/index.ts';
import { ChangeRecorder } from '../support/api-writes.ts';
import { installCrds } from '../support/crds.ts';
import { ensureNamespace, startTestOperator, type TestOperator } from '../support/operator.ts';
import { vaultPolicy } from '../support/shipped.ts';
import type { Testbed } from '../support/testbed/index.ts';
import { baoApi, kubernetesAuth, openbaoAuditLogFile } from '../support/testbed/openbao.ts';
import { delay, eventually } from '../support/wait.ts';
import { BackendTruth, decodeSecretData, wrongSecretWrites } from './backend-truth.ts';
import { requestsBetween, scrapeBackendRequests, type BackendRequests } from './backend-requests.ts';
import { OpenBaoAudit } from './openbao-audit.ts';
import { startPrivateBed, stopPrivateBed } from './private-bed.ts';
import { faultsMode, reportFault } from './report.ts';

const ns = 'team-faults';
const API = 'vaultsync.io/v1alpha1';
const BACKEND = 'vault';
const WORKERS = 4; // the chart's operator.workers

const full = faultsMode() === 'full';
/** full: the issue's durations and the backend's shipped defaults; quick: shorter, same assertions. */
const plan = full
  ? { resources: 300, faultSeconds: 60, tokenTtl: 60, tokenRunSeconds: 270, timeout: 10, halfOpenAfter: 30 }
  : { resources: 100, faultSeconds: 15, tokenTtl: 10, tokenRunSeconds: 40, timeout: 3, halfOpenAfter: 5 };
const FAILURE_THRESHOLD = 5; // circuitBreaker.failureThreshold default
const REFRESH = '10s'; // the shortest refreshInterval the CRD admits: the most traffic per resource
/** Each case changes this share of the backend values during or right after its fault. */
const CHANGED_SHARE = 5;
/** The rate-limit quota's block lasts this much longer than the fault (seconds). */
const QUOTA_BLOCK_OVERHANG = 5;

const names = Array.from({ length: plan.resources }, (_, i) => `app-${String(i).padStart(3, '0')}`);

/** The operator's backend: as the test writes it; startTestOperator swaps the root token for Kubernetes auth. */
function backendConfig(bed: Testbed, auth: string): string {
  return `
backends:
  - name: ${BACKEND}
    type: vault
    address: ${bed.baoAddr}
    tls: {insecure: true}
    auth: ${auth}
    allowedNamespaces: ["${ns}"]
    allowedPaths: ["{namespace}/**"]
    timeout: ${plan.timeout}s
    circuitBreaker: {failureThreshold: ${FAILURE_THRESHOLD}, halfOpenAfter: ${plan.halfOpenAfter}s}
`;
}

describe('faults: OpenBao', function () {
  this.timeout((full ? 1800 : 600) * 1000);
  let bed: Testbed;
  let client: KubeClient;
  let operator: TestOperator | undefined;
  let recorder: ChangeRecorder;
  let bao: ReturnType<typeof baoApi>;
  const truth = new BackendTruth();

  before(async function () {
    this.timeout(300_000);
    bed = await startPrivateBed('openbao', { workloads: false, openbaoAudit: true });
    client = createKubeClient(bed.kubeConfig());
    bao = baoApi({ addr: bed.baoAddr, token: bed.baoToken });
    await installCrds(bed.kubeConfig());
    await ensureNamespace(bed.kubeConfig(), ns);
    for (const name of names) await bao('POST', `secret/data/${ns}/${name}`, { data: truth.next(name) });
    recorder = new ChangeRecorder(
      bed.kubeConfig(),
      [{ resource: 'secrets', path: `/api/v1/namespaces/${ns}/secrets` }],
      new Set([ns]),
    );
    await recorder.start();
    operator = await startTestOperator(bed, {
      config: backendConfig(bed, `{token: {value: ${bed.baoToken}}}`),
    });
    for (let i = 0; i < names.length; i += 25) {
      await Promise.all(
        names.slice(i, i + 25).map((name) =>
          createObject<VaultSecret>(client, {
            apiVersion: API,
            kind: 'VaultSecret',
            metadata: { name, namespace: ns },
            spec: {
              backend: BACKEND,
              refreshInterval: REFRESH,
              dataFrom: [{ extract: { path: `${ns}/${name}` } }],
            },
          }),
        ),
      );
    }
    const started = Date.now();
    await eventually('every Secret in sync', () => inSync(), 180_000, 500);
    console.log(
      `      ${names.length} VaultSecrets in sync ${((Date.now() - started) / 1000).toFixed(1)} s after creation`,
    );
  });

  after(async function () {
    this.timeout(60_000);
    recorder?.stop();
    try {
      await operator?.stop();
    } finally {
      await stopPrivateBed(bed);
    }
  });

  // ---------------------------------------------------------------------------------------------

  async function list<T>(path: string): Promise<T[]> {
    return (await client.rest.request<{ items: T[] }>({ method: 'GET', path })).items;
  }

  const readyOf = (vs: VaultSecret) => vs.status?.conditions?.find((c) => c.type === 'Ready');

  /** Every VaultSecret Ready for its generation and every Secret holding the backend's latest data. */
  async function inSync(): Promise<true | undefined> {
    const [resources, secrets] = await Promise.all([
      list<VaultSecret>(`/apis/${API}/namespaces/${ns}/vaultsecrets`),
      list<V1Secret>(`/api/v1/namespaces/${ns}/secrets`),
    ]);
    const ready = resources.filter(
      (vs) => readyOf(vs)?.status === 'True' && vs.status?.observedGeneration === vs.metadata?.generation,
    );
    if (ready.length !== names.length) return undefined;
    const byName = new Map(secrets.map((s) => [s.metadata?.name ?? '', s]));
    for (const name of names) {
      const s = byName.get(name);
      if (!s || !isDeepStrictEqual(decodeSecretData(s), truth.latest(name))) return undefined;
    }
    return true;
  }

  /** VaultSecrets showing Ready=False now, by reason. */
  async function notReady(): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    for (const vs of await list<VaultSecret>(`/apis/${API}/namespaces/${ns}/vaultsecrets`)) {
      const c = readyOf(vs);
      if (c?.status === 'False') out.set(c.reason ?? '', (out.get(c.reason ?? '') ?? 0) + 1);
    }
    return out;
  }

  /** New backend values for every CHANGED_SHARE-th resource; `localAddress` sends each write from its own loopback address. */
  async function changeBackend(localAddress?: (i: number) => string): Promise<number> {
    const changed = names.filter((_, i) => i % CHANGED_SHARE === 0);
    await Promise.all(
      changed.map((name, i) =>
        localAddress
          ? baoPutFrom(bed, localAddress(i), `secret/data/${ns}/${name}`, { data: truth.next(name) })
          : bao('POST', `secret/data/${ns}/${name}`, { data: truth.next(name) }),
      ),
    );
    return changed.length;
  }

  interface FaultCase {
    fault: string;
    begin(): Promise<void>;
    end(): Promise<void>;
    /** Change backend values while the fault lasts (otherwise right after it ends). */
    changeDuring?: () => Promise<number>;
    /** The Ready=False reason the fault must show on resources while it lasts. */
    reason: string;
    /** Said in the row's notes. */
    note?: string;
    /** The most requests the operator may send while the fault lasts, and why. */
    bound: { requests: (faultSeconds: number) => number; why: string };
  }

  /** Runs one fault: asserts 0 wrong writes, the failure shown, bounded requests, recovery; reports the row. */
  async function runFault(spec: FaultCase): Promise<void> {
    assert.ok(operator?.healthAddress, 'the operator serves metrics');
    await eventually('every Secret in sync before the fault', () => inSync(), 120_000, 500);
    const changesFrom = recorder.changes.length;
    const before: BackendRequests = await scrapeBackendRequests(operator.healthAddress, BACKEND);
    const shown = new Map<string, number>();
    let changed = 0;
    const began = Date.now();
    await spec.begin();
    let after: BackendRequests;
    try {
      const until = began + plan.faultSeconds * 1000;
      while (Date.now() < until) {
        if (spec.changeDuring && changed === 0 && Date.now() > began + 2000)
          changed = await spec.changeDuring();
        for (const [reason, n] of await notReady()) shown.set(reason, Math.max(n, shown.get(reason) ?? 0));
        await delay(Math.min(1000, Math.max(0, until - Date.now())));
      }
      after = await scrapeBackendRequests(operator.healthAddress, BACKEND);
    } finally {
      await spec.end();
    }
    const ended = Date.now();
    if (!spec.changeDuring) changed = await changeBackend();
    let readyAgain: number | undefined;
    await eventually(
      'every Secret in sync after the fault',
      async () => {
        readyAgain ??= (await notReady()).size === 0 ? Date.now() : undefined;
        return inSync();
      },
      300_000,
      250,
    );
    const recoverySeconds = (Date.now() - ended) / 1000;
    recorder.assertComplete();

    const wrong = wrongSecretWrites(recorder.changes, truth).filter(
      (w) => recorder.changes.findIndex((c) => c.resourceVersion === w.resourceVersion) >= changesFrom,
    );
    const during = requestsBetween(before, after);
    const faultSeconds = (ended - began) / 1000;
    const secretWrites = recorder.changes.length - changesFrom;
    reportFault({
      fault: spec.fault,
      faultSeconds: Math.round(faultSeconds),
      wrongSecretWrites: wrong.length,
      recoverySeconds,
      requestsDuringFault: { openbao: during.sent },
      notes:
        `${names.length} VaultSecrets; ${changed} backend values changed ${spec.changeDuring ? 'during' : 'right after'} ` +
        `the fault; Ready=False shown: ${[...shown].map(([r, n]) => `${r} ×${n}`).join(', ') || 'none'}; ` +
        `all Ready ${(((readyAgain ?? Date.now()) - ended) / 1000).toFixed(1)} s after it; ` +
        `${(during.sent / faultSeconds).toFixed(2)} req/s sent (metrics, calls that completed; ` +
        `${Object.entries(during.outcomes)
          .map(([o, n]) => `${o} ${n}`)
          .join(', ')}), ` +
        `${during.refusedLocally} refused locally, ${during.throttledByBackend} answered 429; ${secretWrites} Secret writes; ` +
        `timeout ${plan.timeout}s, circuit half-open after ${plan.halfOpenAfter}s` +
        (spec.note ? `; ${spec.note}` : ''),
    });
    assert.deepEqual(wrong, [], 'no Secret blanked, deleted or holding a value the backend never had');
    assert.equal(secretWrites, changed, 'exactly the changed Secrets were written, each once');
    assert.ok(
      (shown.get(spec.reason) ?? 0) > 0,
      `the fault showed on resources as Ready=False ${spec.reason} (saw: ${[...shown.keys()].join(', ') || 'none'})`,
    );
    assert.ok(
      during.sent <= spec.bound.requests(faultSeconds),
      `requests during the fault bounded (${spec.bound.why}): ${during.sent} > ${spec.bound.requests(faultSeconds)}`,
    );
  }

  // Without backoff, every resource would be read once per refresh interval and retried: at least
  // resources × faultSeconds / 10 requests. With the breaker: what the workers had in flight when
  // the fault began, until the circuit opened and when it opened (a failure that changes a
  // resource's status is tried once more at once), then one trial per half-open period.
  const breakerBound = {
    requests: (seconds: number) => 3 * WORKERS + FAILURE_THRESHOLD + Math.ceil(seconds / plan.halfOpenAfter),
    why: `3 × ${WORKERS} workers in flight + ${FAILURE_THRESHOLD} to open the circuit + one trial per ${plan.halfOpenAfter} s`,
  };

  it(`OpenBao frozen (SIGSTOP) for ${plan.faultSeconds} s: no Secret touched, BackendUnavailable shown, recovers`, async () => {
    const openbao = bed.processes.find((p) => p.name === 'openbao')!;
    await runFault({
      fault: 'OpenBao frozen (SIGSTOP)',
      begin: async () => void process.kill(openbao.pid, 'SIGSTOP'),
      end: async () => void process.kill(openbao.pid, 'SIGCONT'),
      reason: 'BackendUnavailable',
      bound: breakerBound,
    });
  });

  it(`OpenBao sealed for ${plan.faultSeconds} s, then unsealed: no Secret touched, BackendUnavailable shown, recovers`, async () => {
    const openbao = bed.processes.find((p) => p.name === 'openbao')!;
    // Dev mode prints its single unseal key at start.
    const key = /Unseal Key: (\S+)/.exec(readFileSync(openbao.logFile, 'utf8'))?.[1];
    assert.ok(key, 'the dev server printed its unseal key');
    await runFault({
      fault: 'OpenBao sealed, then unsealed',
      begin: async () => void (await bao('PUT', 'sys/seal')),
      end: async () => {
        await bao('PUT', 'sys/unseal', { key });
        await eventually('OpenBao unsealed and serving', async () =>
          (await fetch(`${bed.baoAddr}/v1/sys/health`)).status === 200 ? true : undefined,
        );
      },
      reason: 'BackendUnavailable',
      bound: breakerBound,
    });
  });

  /**
   * A rate-limit quota of one request per second on the KV mount that, once exceeded, blocks the
   * client (429) for the whole fault. OpenBao keeps one bucket per client address: the test's own
   * writes during the fault come from other loopback addresses, so only the operator (127.0.0.1)
   * is limited. OpenBao sends Retry-After only with `enable_rate_limit_response_headers`.
   */
  async function quotaFault(retryAfter: boolean): Promise<void> {
    const quota = 'sys/quotas/rate-limit/faults';
    const headers = (on: boolean) =>
      bao('POST', 'sys/quotas/config', { enable_rate_limit_response_headers: on });
    await headers(retryAfter);
    try {
      await runFault({
        fault: `OpenBao rate-limit quota (429${retryAfter ? ' with Retry-After' : ', no Retry-After'})`,
        begin: async () =>
          void (await bao('POST', quota, {
            path: 'secret/',
            rate: 1,
            interval: '1s',
            // Outlasts the fault, so no request between the block's end and the quota's removal
            // starts a new block; with Retry-After, the operator waits out the last 5 s it was told.
            block_interval: `${plan.faultSeconds + QUOTA_BLOCK_OVERHANG}s`,
          })),
        end: async () => void (await bao('DELETE', quota)),
        changeDuring: () => changeBackend((i) => `127.0.${1 + Math.floor(i / 200)}.${2 + (i % 200)}`),
        reason: 'BackendThrottled',
        note: `quota 1 req/s, block ${plan.faultSeconds + QUOTA_BLOCK_OVERHANG} s, removed after ${plan.faultSeconds} s`,
        bound: retryAfter
          ? {
              // Retry-After covers the rest of the block: the bucket stays closed until then.
              requests: () => 2 * WORKERS + 2,
              why: `the quota's first admitted request and what ${WORKERS} workers had in flight when the first 429 came back; then nothing until Retry-After`,
            }
          : {
              // No hint: each 429 closes the bucket for DEFAULT_THROTTLE_MS (1 s).
              requests: (seconds) => Math.ceil(seconds) + 2 * WORKERS + 2,
              why: `one request per 1 s pause after each 429 + the quota's first admitted ones + what ${WORKERS} workers had in flight`,
            },
      });
    } finally {
      await headers(false);
    }
  }

  it(`an OpenBao rate-limit quota answering 429 with Retry-After for ${plan.faultSeconds} s: honoured, BackendThrottled shown, recovers`, async () => {
    await quotaFault(true);
  });

  it(`an OpenBao rate-limit quota answering 429 without Retry-After (OpenBao's default) for ${plan.faultSeconds} s: 1 s pauses, recovers`, async () => {
    await quotaFault(false);
  });

  it(`a Vault token of ${plan.tokenTtl} s TTL through ${plan.tokenRunSeconds} s: re-logs-in in time, no request refused, no Secret touched`, async () => {
    await operator?.stop();
    operator = undefined;
    await eventually('every Secret in sync', () => inSync(), 60_000, 500);
    // A Kubernetes-auth role of its own with short tokens (max TTL two TTLs: one renewal, then a
    // new login) and the least-privilege policy the shipped config derives.
    const role = 'faults-short-ttl';
    await bao('PUT', `sys/policies/acl/${role}`, {
      policy: vaultPolicy([{ type: 'vault', allowedPaths: ['{namespace}/**'] }]),
    });
    await bao('POST', `auth/${kubernetesAuth.mountPath}/role/${role}`, {
      bound_service_account_names: ['vaultsync'],
      bound_service_account_namespaces: ['vaultsync-system'],
      audience: 'vault',
      token_policies: [role],
      token_ttl: `${plan.tokenTtl}s`,
      token_max_ttl: `${2 * plan.tokenTtl}s`,
    });
    const audit = new OpenBaoAudit(openbaoAuditLogFile(bed.dir));
    // The audit device shows a refused token: one request with a made-up token must count.
    const probeFrom = audit.mark();
    const probe = await fetch(`${bed.baoAddr}/v1/secret/data/${ns}/${names[0]}`, {
      headers: { 'X-Vault-Token': 's.not-a-token' },
    });
    assert.equal(probe.status, 403);
    await eventually('the refusal in the audit log', () =>
      audit.operatorTraffic(probeFrom).refused === 1 ? true : undefined,
    );
    const auditFrom = audit.mark();
    const changesFrom = recorder.changes.length;
    const began = Date.now();
    operator = await startTestOperator(bed, {
      config: backendConfig(
        bed,
        `{kubernetes: {role: ${role}, mountPath: ${kubernetesAuth.mountPath}, serviceAccount: operator, audiences: [vault]}}`,
      ),
    });
    const shown = new Map<string, number>();
    while (Date.now() < began + plan.tokenRunSeconds * 1000) {
      for (const [reason, n] of await notReady()) shown.set(reason, Math.max(n, shown.get(reason) ?? 0));
      await delay(1000);
    }
    const metrics = await scrapeBackendRequests(operator.healthAddress!, BACKEND);
    const traffic = audit.operatorTraffic(auditFrom);
    const runSeconds = (Date.now() - began) / 1000;
    const secretWrites = recorder.changes.length - changesFrom;
    const wrong = wrongSecretWrites(recorder.changes, truth).filter(
      (w) => recorder.changes.findIndex((c) => c.resourceVersion === w.resourceVersion) >= changesFrom,
    );
    recorder.assertComplete();
    reportFault({
      fault: `Vault token TTL ${plan.tokenTtl} s (max ${2 * plan.tokenTtl} s)`,
      faultSeconds: Math.round(runSeconds),
      wrongSecretWrites: wrong.length,
      recoverySeconds: null,
      requestsDuringFault: { openbao: traffic.requests },
      notes:
        `${names.length} VaultSecrets; ${traffic.logins} logins and ${metrics.renewals} renewals ` +
        `(OpenBao audit device / metrics), ${traffic.refused} requests refused, ` +
        `${(traffic.requests / runSeconds).toFixed(1)} req/s; Ready=False shown: ` +
        `${[...shown].map(([r, n]) => `${r} ×${n}`).join(', ') || 'none'}; ${secretWrites} Secret writes`,
    });
    assert.equal(
      traffic.refused,
      0,
      `OpenBao refused no request of the operator: ${JSON.stringify(traffic.errors)}`,
    );
    assert.equal(metrics.outcomes.PermissionDenied ?? 0, 0, 'no sync failed with permission denied');
    assert.equal(metrics.outcomes.Unauthenticated ?? 0, 0, 'no sync failed unauthenticated');
    assert.ok(
      traffic.logins >= Math.ceil(runSeconds / (2 * plan.tokenTtl)),
      `a new login before each token's max TTL ran out: ${traffic.logins} logins in ${runSeconds.toFixed(0)} s`,
    );
    assert.deepEqual([...shown.keys()], [], 'no resource failed');
    assert.deepEqual(wrong, []);
    assert.equal(secretWrites, 0, 'no Secret touched');
    assert.ok(await inSync(), 'everything still in sync');
  });
});

/** A root-token write to OpenBao from a given loopback address (OpenBao's quotas count per client address). */
function baoPutFrom(bed: Testbed, localAddress: string, path: string, body: unknown): Promise<void> {
  const url = new URL(`${bed.baoAddr}/v1/${path}`);
  const payload = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      {
        method: 'POST',
        localAddress,
        headers: {
          'X-Vault-Token': bed.baoToken,
          'Content-Type': 'application/json',
          'Content-Length': Buffer.byteLength(payload),
        },
      },
      (res) => {
        res.resume();
        res.on('end', () =>
          res.statusCode && res.statusCode < 300
            ? resolve()
            : reject(new Error(`OpenBao POST ${path} from ${localAddress}: HTTP ${res.statusCode}`)),
        );
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}
