// etcd + kube-apiserver (+ kube-controller-manager, kube-scheduler and kwok with one fake
// node) on free loopback ports: a real control plane, as controller-runtime's envtest runs it.
import { mkdirSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { binary } from './paths.ts';
import { freePort } from './ports.ts';
import { createControlPlanePki, type ClientCert } from './pki.ts';
import { writeKubeconfig } from './kubeconfig.ts';
import { spawnManaged, waitUntil, type ManagedProcess } from './processes.ts';

export interface ControlPlane {
  server: string;
  caFile: string;
  kubeconfig: string;
}

export interface ControlPlaneOptions {
  dir: string;
  /** kube-controller-manager, kube-scheduler and kwok, so Deployments really roll out. */
  workloads: boolean;
  /** Audit lists and watches of ServiceAccounts too (see auditPolicyJson). */
  auditReads?: boolean;
  /** Audit every other request of ServiceAccounts too: gets, and events (see auditPolicyJson). */
  auditEveryRequest?: boolean;
  group: ManagedProcess[];
}

/**
 * The apiserver's audit log of writes (JSON lines, level Metadata: who, verb, object, status code;
 * never a body), so a test can count the requests a component made from the apiserver's own view
 * (test/upgrade.test.ts). Leases, events and node status (heartbeats) are left out.
 */
export const auditLogFile = (dir: string) => join(dir, 'logs', 'kube-apiserver-audit.log');

/**
 * Writes at level Metadata; with `reads`, also every list and watch made with a ServiceAccount
 * token (the operator's), so a fault test can count relists (test/faults/cluster.test.ts); with
 * `everyRequest`, also a ServiceAccount's gets and Events (leases still not), so a test can count
 * what one resource costs (test/vaultsecret-costs.test.ts).
 */
const auditPolicyJson = (reads: boolean, everyRequest = false) =>
  JSON.stringify({
    apiVersion: 'audit.k8s.io/v1',
    kind: 'Policy',
    omitStages: ['RequestReceived'],
    rules: [
      ...(everyRequest
        ? [
            { level: 'None', resources: [{ group: 'coordination.k8s.io', resources: ['leases'] }] },
            {
              level: 'Metadata',
              userGroups: ['system:serviceaccounts'],
              verbs: ['get', 'create', 'update', 'patch', 'delete', 'deletecollection'],
            },
          ]
        : []),
      {
        level: 'None',
        resources: [
          { group: 'coordination.k8s.io', resources: ['leases'] },
          { group: '', resources: ['events', 'nodes', 'nodes/status'] },
          { group: 'events.k8s.io', resources: ['events'] },
        ],
      },
      { level: 'Metadata', verbs: ['create', 'update', 'patch', 'delete', 'deletecollection'] },
      ...(reads
        ? [{ level: 'Metadata', verbs: ['list', 'watch'], userGroups: ['system:serviceaccounts'] }]
        : []),
      { level: 'None' },
    ],
  });

async function httpOk(url: string): Promise<boolean> {
  const res = await fetch(url);
  return res.ok;
}

/** GET over TLS with a client certificate; resolves to the status code. */
function httpsStatus(url: string, caFile: string, cert: ClientCert): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        ca: readFileSync(caFile),
        cert: readFileSync(cert.certFile),
        key: readFileSync(cert.keyFile),
        timeout: 2000,
      },
      (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      },
    );
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.end();
  });
}

export async function startControlPlane(opts: ControlPlaneOptions): Promise<ControlPlane> {
  const pkiDir = join(opts.dir, 'pki');
  const logDir = join(opts.dir, 'logs');
  mkdirSync(pkiDir, { recursive: true });
  mkdirSync(logDir, { recursive: true });
  const pki = createControlPlanePki(pkiDir);

  const [etcdPort, etcdPeerPort, apiPort] = await Promise.all([freePort(), freePort(), freePort()]);
  const etcdUrl = `http://127.0.0.1:${etcdPort}`;
  const etcd = spawnManaged(
    'etcd',
    binary('etcd', 'etcd'),
    [
      `--data-dir=${join(opts.dir, 'etcd')}`,
      `--listen-client-urls=${etcdUrl}`,
      `--advertise-client-urls=${etcdUrl}`,
      `--listen-peer-urls=http://127.0.0.1:${etcdPeerPort}`,
      `--initial-advertise-peer-urls=http://127.0.0.1:${etcdPeerPort}`,
      `--initial-cluster=default=http://127.0.0.1:${etcdPeerPort}`,
      '--unsafe-no-fsync',
      '--log-level=warn',
    ],
    { logDir, group: opts.group },
  );
  await waitUntil('etcd', () => httpOk(`${etcdUrl}/health`), { timeoutMs: 30_000, process: etcd });

  const server = `https://127.0.0.1:${apiPort}`;
  const auditPolicy = join(pkiDir, 'audit-policy.json');
  writeFileSync(auditPolicy, auditPolicyJson(opts.auditReads ?? false, opts.auditEveryRequest ?? false));
  const apiserver = spawnManaged(
    'kube-apiserver',
    binary('kubernetes', 'kube-apiserver'),
    [
      `--etcd-servers=${etcdUrl}`,
      '--bind-address=127.0.0.1',
      '--advertise-address=127.0.0.1',
      `--secure-port=${apiPort}`,
      '--endpoint-reconciler-type=none',
      `--tls-cert-file=${pki.servingCertFile}`,
      `--tls-private-key-file=${pki.servingKeyFile}`,
      `--client-ca-file=${pki.caFile}`,
      '--authorization-mode=Node,RBAC',
      `--service-account-issuer=${server}`,
      `--service-account-key-file=${pki.serviceAccountPubFile}`,
      `--service-account-signing-key-file=${pki.serviceAccountKeyFile}`,
      '--service-cluster-ip-range=10.0.0.0/24',
      '--allow-privileged=true',
      `--cert-dir=${pkiDir}`,
      '--profiling=false',
      `--audit-policy-file=${auditPolicy}`,
      `--audit-log-path=${auditLogFile(opts.dir)}`,
      '--v=1',
    ],
    { logDir, group: opts.group },
  );
  const admin = pki.client('admin', 'admin', 'system:masters');
  await waitUntil(
    'kube-apiserver',
    async () => (await httpsStatus(`${server}/readyz`, pki.caFile, admin)) === 200,
    { timeoutMs: 90_000, process: apiserver },
  );
  const kubeconfig = join(opts.dir, 'kubeconfig');
  writeKubeconfig(kubeconfig, server, pki.caFile, admin);

  if (opts.workloads) await startWorkloadComponents(opts.dir, server, pki, { logDir, group: opts.group });
  return { server, caFile: pki.caFile, kubeconfig };
}

async function startWorkloadComponents(
  dir: string,
  server: string,
  pki: ReturnType<typeof createControlPlanePki>,
  spawnOpts: { logDir: string; group: ManagedProcess[] },
): Promise<void> {
  const componentKubeconfig = (name: string, user: string) => {
    const file = join(dir, `${name}.kubeconfig`);
    writeKubeconfig(file, server, pki.caFile, pki.client(name, user));
    return file;
  };
  spawnManaged(
    'kube-controller-manager',
    binary('kubernetes', 'kube-controller-manager'),
    [
      `--kubeconfig=${componentKubeconfig('kube-controller-manager', 'system:kube-controller-manager')}`,
      '--leader-elect=false',
      '--bind-address=127.0.0.1',
      `--secure-port=${await freePort()}`,
      `--root-ca-file=${pki.caFile}`,
      `--service-account-private-key-file=${pki.serviceAccountKeyFile}`,
      '--use-service-account-credentials=true',
      '--controllers=*,-nodeipam,-service-lb-controller,-route,-cloud-node-lifecycle',
      '--v=1',
    ],
    spawnOpts,
  );
  spawnManaged(
    'kube-scheduler',
    binary('kubernetes', 'kube-scheduler'),
    [
      `--kubeconfig=${componentKubeconfig('kube-scheduler', 'system:kube-scheduler')}`,
      '--leader-elect=false',
      '--bind-address=127.0.0.1',
      `--secure-port=${await freePort()}`,
      '--v=1',
    ],
    spawnOpts,
  );
  spawnManaged(
    'kwok',
    binary('kwok', 'kwok'),
    [
      `--kubeconfig=${join(dir, 'kubeconfig')}`,
      '--manage-all-nodes=false',
      '--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake',
      '--cidr=10.244.0.1/24',
      '--node-ip=127.0.0.1',
      `--server-address=127.0.0.1:${await freePort()}`,
    ],
    spawnOpts,
  );
}
