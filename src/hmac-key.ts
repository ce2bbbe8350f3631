// The key of the keyed HMAC written to status (secretMAC): random, kept in a Secret the
// operator owns in its own namespace, created on first start. Replicas racing to create it
// end up reading the same one.
import { randomBytes } from 'node:crypto';
import type { V1Secret } from '@kubernetes/client-node';
import { type KubeClient, createObject, getObject } from './kube/client.ts';
import { isAlreadyExists } from './kube/errors.ts';
import { Sensitive } from './secrets/sensitive.ts';

export const HMAC_KEY_SECRET = 'vaultsync-hmac-key';

export async function loadOrCreateHmacKey(
  client: KubeClient,
  namespace: string,
): Promise<Sensitive<Uint8Array>> {
  const ref = { apiVersion: 'v1', kind: 'Secret', namespace, name: HMAC_KEY_SECRET };
  const read = async () => {
    const secret = await getObject<V1Secret>(client, ref);
    const b64 = secret?.data?.key;
    return b64 === undefined ? undefined : new Sensitive<Uint8Array>(Buffer.from(b64, 'base64'));
  };
  const existing = await read();
  if (existing) return existing;
  try {
    await createObject<V1Secret>(client, {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: HMAC_KEY_SECRET, namespace, labels: { 'app.kubernetes.io/part-of': 'vaultsync' } },
      type: 'Opaque',
      data: { key: randomBytes(32).toString('base64') },
    });
  } catch (err) {
    if (!isAlreadyExists(err)) throw err;
  }
  const created = await read();
  if (!created) throw new Error(`Secret ${namespace}/${HMAC_KEY_SECRET} has no key`);
  return created;
}
