// The whole local test bed: control plane, OpenBao, moto and the cloud fakes (Google Secret
// Manager, Azure Key Vault: see gcp.ts, azure.ts), started together, described
// by a sourceable env file, and stopped together (from this process or a later one).
import { mkdirSync, readFileSync, writeFileSync, existsSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { binary } from './paths.ts';
import * as k8s from '@kubernetes/client-node';
import { startControlPlane } from './control-plane.ts';
import { startOpenBao, configurePki, configureKubernetesAuth, kubernetesAuth, pkiRole } from './openbao.ts';
import { startMoto } from './moto.ts';
import { startGcpFake } from './gcp.ts';
import { startAzureFake } from './azure.ts';
import { stopAll, isAlive, restartManaged, type ManagedProcess } from './processes.ts';
import { bootstrapCluster } from './bootstrap.ts';

export { kubernetesAuth, pkiRole };

export interface TestbedOptions {
  dir: string;
  workloads?: boolean;
  aws?: boolean;
  /** The Google Secret Manager fake (default: on). */
  gcp?: boolean;
  /** The Azure Key Vault fake (default: on). */
  azure?: boolean;
  /** The apiserver's audit log records ServiceAccounts' lists and watches too (default: writes only). */
  auditReads?: boolean;
  /** ...and every other request of a ServiceAccount: gets, and Events (default: writes only, no Events). */
  auditEveryRequest?: boolean;
  /** OpenBao keeps a file audit log (openbaoAuditLogFile) of every request (default: off). */
  openbaoAudit?: boolean;
  log?: (line: string) => void;
}

export interface Testbed {
  dir: string;
  /** What `.testbed/env` exports: KUBECONFIG, BAO_ADDR, BAO_TOKEN, ... */
  env: Record<string, string>;
  kubeconfig: string;
  baoAddr: string;
  baoToken: string;
  baoKubernetesAuth: typeof kubernetesAuth;
  /** Cloud secret managers of the bed (moto, and the fakes for Google and Azure). */
  cloud: CloudEndpoints;
  kubeConfig(): k8s.KubeConfig;
  /** The bed's processes (etcd, kube-apiserver, openbao, ...): pid, log file, how they were started. */
  processes: readonly ManagedProcess[];
  /** Stops one process (SIGTERM, or `signal`) and starts it again the same way (fault tests on a private bed). */
  restart(name: string, opts?: { signal?: NodeJS.Signals }): Promise<ManagedProcess>;
  stop(): Promise<void>;
}

export interface CloudEndpoints {
  /** moto: `http://127.0.0.1:<port>` (AWS_ENDPOINT_URL_SECRETS_MANAGER). */
  awsEndpoint: string;
  /** The Google Secret Manager fake: gRPC `127.0.0.1:<port>`, plain text. */
  gcpEndpoint: string;
  /** Its admin address (throttle switch, call log). */
  gcpAdmin: string;
  /** The Azure Key Vault fake: `https://127.0.0.1:<port>`. */
  azureVaultUrl: string;
  /** CA of the fake's certificate (trust it via `tls.caFile`). */
  azureCaFile: string;
  azureAdmin: string;
}

const pidsFile = (dir: string) => join(dir, 'pids.json');
export const envFile = (dir: string) => join(dir, 'env');

export async function startTestbed(opts: TestbedOptions): Promise<Testbed> {
  const log = opts.log ?? (() => {});
  const started = Date.now();
  rmSync(opts.dir, { recursive: true, force: true });
  mkdirSync(opts.dir, { recursive: true });
  const processes: ManagedProcess[] = [];
  const record = () => writeFileSync(pidsFile(opts.dir), JSON.stringify(processes, null, 2));
  try {
    log('starting etcd and kube-apiserver');
    const [cp, bao] = await Promise.all([
      startControlPlane({
        dir: opts.dir,
        workloads: opts.workloads ?? true,
        auditReads: opts.auditReads,
        auditEveryRequest: opts.auditEveryRequest,
        group: processes,
      }),
      startOpenBao(opts.dir, processes, { audit: opts.openbaoAudit ?? false }),
    ]);
    record();
    const kc = loadKubeConfig(cp.kubeconfig);
    log('bootstrapping the cluster (namespaces, service accounts, fake node)');
    const { reviewerJwt } = await bootstrapCluster(kc, { fakeNode: opts.workloads ?? true });
    log('configuring OpenBao (KV v2 at secret/, PKI, Kubernetes auth)');
    await configurePki(bao);
    await configureKubernetesAuth(bao, {
      server: cp.server,
      caPem: readFileSync(cp.caFile, 'utf8'),
      reviewerJwt,
    });
    const env: Record<string, string> = {
      KUBECONFIG: cp.kubeconfig,
      BAO_ADDR: bao.addr,
      BAO_TOKEN: bao.token,
      VAULT_ADDR: bao.addr,
      VAULT_TOKEN: bao.token,
      VAULTSYNC_TESTBED_DIR: opts.dir,
    };
    log('starting the cloud secret managers (moto; fakes for Google and Azure)');
    const [moto, gcp, azure] = await Promise.all([
      (opts.aws ?? true) ? startMoto(opts.dir, processes) : undefined,
      (opts.gcp ?? true) ? startGcpFake(opts.dir, processes) : undefined,
      (opts.azure ?? true) ? startAzureFake(opts.dir, processes) : undefined,
    ]);
    record();
    if (moto) env.AWS_ENDPOINT_URL_SECRETS_MANAGER = moto.endpoint;
    if (gcp) {
      env.GCP_SECRET_MANAGER_ENDPOINT = gcp.endpoint;
      env.GCP_SECRET_MANAGER_FAKE_ADMIN = gcp.admin;
    }
    if (azure) {
      env.AZURE_KEYVAULT_URL = azure.vaultUrl;
      env.AZURE_KEYVAULT_CA_FILE = azure.caFile;
      env.AZURE_KEYVAULT_FAKE_ADMIN = azure.admin;
    }
    // PATH puts the pinned kubectl, bao and helm first for a shell that sources the file.
    const tools = ['kubernetes', 'openbao', 'helm'].map((c) => dirname(binary(c, 'x'))).join(':');
    writeFileSync(
      envFile(opts.dir),
      Object.entries(env)
        .map(([k, v]) => `export ${k}=${v}\n`)
        .join('') + `export PATH=${tools}:$PATH\n`,
    );
    log(`test bed ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    return describe(opts.dir, env, processes);
  } catch (err) {
    await stopAll(processes);
    throw err;
  }
}

/** Attaches to a bed started earlier (for example by `make testbed-up`), if it still runs. */
export function attachTestbed(dir: string): Testbed | undefined {
  if (!existsSync(envFile(dir)) || !existsSync(pidsFile(dir))) return undefined;
  const processes = JSON.parse(readFileSync(pidsFile(dir), 'utf8')) as ManagedProcess[];
  if (!processes.every((p) => isAlive(p.pid))) return undefined;
  const env = Object.fromEntries(
    readFileSync(envFile(dir), 'utf8')
      .split('\n')
      .filter((l) => l.startsWith('export ') && !l.startsWith('export PATH='))
      .map((l) => l.slice('export '.length).split('=', 2) as [string, string]),
  );
  return describe(dir, env, processes);
}

/** Stops a bed started by another process (`make testbed-down`). */
export async function stopTestbedIn(dir: string): Promise<boolean> {
  if (!existsSync(pidsFile(dir))) return false;
  const processes = JSON.parse(readFileSync(pidsFile(dir), 'utf8')) as ManagedProcess[];
  await stopAll(processes);
  rmSync(pidsFile(dir), { force: true });
  rmSync(envFile(dir), { force: true });
  return true;
}

function loadKubeConfig(file: string): k8s.KubeConfig {
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(file);
  return kc;
}

function describe(dir: string, env: Record<string, string>, processes: ManagedProcess[]): Testbed {
  const kubeconfig = env.KUBECONFIG ?? '';
  const restart = async (name: string, opts: { signal?: NodeJS.Signals } = {}) => {
    const p = processes.find((q) => q.name === name);
    if (!p) throw new Error(`no process ${name} in the bed`);
    await restartManaged(p, opts);
    writeFileSync(pidsFile(dir), JSON.stringify(processes, null, 2));
    return p;
  };
  return {
    dir,
    env,
    kubeconfig,
    baoAddr: env.BAO_ADDR ?? '',
    baoToken: env.BAO_TOKEN ?? '',
    baoKubernetesAuth: kubernetesAuth,
    cloud: {
      awsEndpoint: env.AWS_ENDPOINT_URL_SECRETS_MANAGER ?? '',
      gcpEndpoint: env.GCP_SECRET_MANAGER_ENDPOINT ?? '',
      gcpAdmin: env.GCP_SECRET_MANAGER_FAKE_ADMIN ?? '',
      azureVaultUrl: env.AZURE_KEYVAULT_URL ?? '',
      azureCaFile: env.AZURE_KEYVAULT_CA_FILE ?? '',
      azureAdmin: env.AZURE_KEYVAULT_FAKE_ADMIN ?? '',
    },
    kubeConfig: () => loadKubeConfig(kubeconfig),
    processes,
    restart,
    stop: () => stopAll(processes),
  };
}
