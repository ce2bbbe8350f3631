// Shared bits of the kube runtime integration tests.
import { randomBytes } from 'node:crypto';
import { type KubeClient, createObject, deleteObject } from '../../src/kube/index.ts';

/** Polls until `fn` returns something other than undefined (errors count as "not yet"). */
export async function eventually<T>(
  what: string,
  fn: () => T | undefined | Promise<T | undefined>,
  timeoutMs = 20_000,
) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await Promise.resolve()
      .then(fn)
      .catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Creates a uniquely named namespace; returns its name and a cleanup function. */
export async function freshNamespace(client: KubeClient, prefix = 'kube-rt') {
  const name = `${prefix}-${randomBytes(4).toString('hex')}`;
  await createObject(client, { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
  return {
    name,
    cleanup: () => deleteObject(client, { apiVersion: 'v1', kind: 'Namespace', name }).catch(() => false),
  };
}

export const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));
