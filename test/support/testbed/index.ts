// The whole local test bed: control plane, OpenBao and moto, started together, described
// by a sourceable env file, and stopped together (from this process or a later one).
import { mkdirSync, readFileSync, writeFileSync, existsSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { binary } from './paths.ts';
import * as k8s from '@kubernetes/client-node';
import { startControlPlane } from './control-plane.ts';
import { startOpenBao, configurePki, configureKubernetesAuth, kubernetesAuth, pkiRole } from './openbao.ts';
import { startMoto } from './moto.ts';
import { stopAll, isAlive, type ManagedProcess } from './processes.ts';
import { bootstrapCluster } from './bootstrap.ts';

export { kubernetesAuth, pkiRole };

export interface TestbedOptions {
  dir: string;
  workloads?: boolean;
  aws?: boolean;
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
  kubeConfig(): k8s.KubeConfig;
  stop(): Promise<void>;
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
      startControlPlane({ dir: opts.dir, workloads: opts.workloads ?? true, group: processes }),
      startOpenBao(opts.dir, processes),
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
    if (opts.aws ?? true) {
      log('starting moto (AWS Secrets Manager)');
      const moto = await startMoto(opts.dir, processes);
      record();
      env.AWS_ENDPOINT_URL_SECRETS_MANAGER = moto.endpoint;
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
    return describe(opts.dir, env, () => stopAll(processes));
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
  return describe(dir, env, () => stopAll(processes));
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

function describe(dir: string, env: Record<string, string>, stop: () => Promise<void>): Testbed {
  const kubeconfig = env.KUBECONFIG ?? '';
  return {
    dir,
    env,
    kubeconfig,
    baoAddr: env.BAO_ADDR ?? '',
    baoToken: env.BAO_TOKEN ?? '',
    baoKubernetesAuth: kubernetesAuth,
    kubeConfig: () => loadKubeConfig(kubeconfig),
    stop,
  };
}
