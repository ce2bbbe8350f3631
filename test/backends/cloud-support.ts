// Helpers for the cloud backend suites: a registry from a config snippet, the Kubernetes
// Secret that holds test credentials, and a proxy that throttles on demand.
import assert from 'node:assert/strict';
import { createServer, request, type IncomingHttpHeaders, type Server } from 'node:http';
import * as k8s from '@kubernetes/client-node';
import { BackendError } from '../../src/resilience/errors.ts';
import { kubeSecretsApi } from '../../src/backends/kube-client.ts';
import { GuardedBackend } from '../../src/backends/guard.ts';
import { createBackends, type BackendDeps, type BackendRegistry } from '../../src/backends/registry.ts';
import type { Backend, BackendAdapter } from '../../src/backends/types.ts';
import type { BackendConfig } from '../../src/config/schema.ts';
import { loadConfig } from '../../src/config/load.ts';
import { systemClock } from '../../src/kube/clock.ts';
import type { Testbed } from '../support/testbed.ts';
import { countingMetrics } from './contract.ts';

/** Namespace of the Secrets holding test credentials (the backends' `operator.namespace`). */
export const CREDENTIALS_NAMESPACE = 'vaultsync-cloud-test';

export interface CloudSetup {
  registry: BackendRegistry;
  backend: Backend;
}

/** A registry with one backend named `name`, from a YAML list item (without the leading "- "). */
export async function cloudBackend(
  name: string,
  backendYaml: string,
  deps: BackendDeps = {},
): Promise<CloudSetup> {
  const config = await loadConfig(
    { text: `operator: {namespace: ${CREDENTIALS_NAMESPACE}}\nbackends:\n  - ${backendYaml.trim()}\n` },
    { env: {} },
  );
  const registry = createBackends(config, deps);
  const backend = registry.get(name);
  assert.ok(backend, `backend ${name} missing`);
  return { registry, backend };
}

/**
 * One backend wrapped as the registry wraps it, around an adapter the test builds from the
 * parsed config (to give it a small list page size); list requests are counted.
 */
export async function guardedCloudBackend(
  backendYaml: string,
  adapter: (cfg: BackendConfig) => BackendAdapter,
): Promise<{ backend: GuardedBackend; adapter: BackendAdapter; listRequests(): number }> {
  const config = await loadConfig(
    { text: `operator: {namespace: ${CREDENTIALS_NAMESPACE}}\nbackends:\n  - ${backendYaml.trim()}\n` },
    { env: {} },
  );
  const cfg = config.backends[0];
  assert.ok(cfg, 'backend missing');
  const metrics = countingMetrics();
  const made = adapter(cfg);
  const backend = new GuardedBackend(made, cfg, { clock: systemClock, metrics });
  return { backend, adapter: made, listRequests: () => metrics.count('list') };
}

/** Creates (or replaces) a Secret in CREDENTIALS_NAMESPACE and returns the Secrets API for deps. */
export async function credentialsSecret(
  bed: Testbed,
  name: string,
  data: Record<string, string>,
): Promise<BackendDeps['secrets']> {
  const kc = bed.kubeConfig();
  const core = kc.makeApiClient(k8s.CoreV1Api);
  await core.createNamespace({ body: { metadata: { name: CREDENTIALS_NAMESPACE } } }).catch(() => undefined);
  const body = { metadata: { name }, stringData: data };
  await core.deleteNamespacedSecret({ namespace: CREDENTIALS_NAMESPACE, name }).catch(() => undefined);
  await core.createNamespacedSecret({ namespace: CREDENTIALS_NAMESPACE, body });
  return kubeSecretsApi(kc);
}

/** Every text an error could be printed as. */
export function printed(err: unknown): string {
  const e = err as Error;
  return `${String(err)} ${e?.message} ${JSON.stringify(err)} ${e?.stack ?? ''}`;
}

export async function rejection(promise: Promise<unknown>): Promise<BackendError> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof BackendError, `expected a BackendError, got ${String(err)}`);
    return err;
  }
  assert.fail('expected a rejection');
}

export interface ThrottleAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export interface ThrottlingProxy {
  /** `http://127.0.0.1:<port>` */
  url: string;
  /** Answers the next `count` requests with `answer` instead of forwarding them. */
  throttleNext(count: number): void;
  /** Requests received (forwarded or answered), in order, with their arrival time. */
  readonly received: { at: number; throttled: boolean }[];
  close(): Promise<void>;
}

/**
 * An HTTP/1.1 proxy in front of a plain-HTTP emulator that answers with a throttle response
 * on demand (moto has no switch for that); everything else is forwarded unchanged.
 */
export async function throttlingProxy(target: string, answer: ThrottleAnswer): Promise<ThrottlingProxy> {
  const upstream = new URL(target);
  let pending = 0;
  const received: { at: number; throttled: boolean }[] = [];
  const server: Server = createServer((req, res) => {
    const throttled = pending > 0;
    received.push({ at: Date.now(), throttled });
    if (throttled) {
      pending--;
      req.resume();
      res.writeHead(answer.status, { ...answer.headers, 'content-length': Buffer.byteLength(answer.body) });
      res.end(answer.body);
      return;
    }
    const headers: IncomingHttpHeaders = { ...req.headers };
    const out = request(
      { hostname: upstream.hostname, port: upstream.port, path: req.url, method: req.method, headers },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      },
    );
    out.on('error', () => res.destroy());
    req.pipe(out);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  assert.ok(address && typeof address === 'object');
  return {
    url: `http://127.0.0.1:${address.port}`,
    throttleNext(count) {
      pending = count;
    },
    received,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** One call a fake cloud server recorded (its admin endpoint `/calls`), for throttle checks. */
export interface FakeCall {
  at: number;
  method: string;
  throttled: boolean;
}

export async function fakeCalls(adminUrl: string): Promise<FakeCall[]> {
  return (await (await fetch(`${adminUrl}/calls`)).json()) as FakeCall[];
}
