// Shared bits of the kube runtime integration tests.
import { randomBytes } from 'node:crypto';
import { type KubeClient, createObject, deleteObject } from '../../src/kube/index.ts';

export { delay, eventually } from '../support/wait.ts';

/** Creates a uniquely named namespace; returns its name and a cleanup function. */
export async function freshNamespace(client: KubeClient, prefix = 'kube-rt') {
  const name = `${prefix}-${randomBytes(4).toString('hex')}`;
  await createObject(client, { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
  return {
    name,
    cleanup: () => deleteObject(client, { apiVersion: 'v1', kind: 'Namespace', name }).catch(() => false),
  };
}
