// The master key of the keyed MACs written to status and workloads (secrets/mac-keyring.ts):
// random, kept in a Secret the operator owns in its own namespace, created on first start.
// Replicas racing to create it end up reading the same one.
//
// Rotation: put a new key in `key` and the old one in `previous`, restart the operator (each
// status is rewritten once to a MAC of the new key; no Secret is written, nothing rolls out),
// then drop `previous` and restart again.
import { randomBytes } from 'node:crypto';
import type { V1Secret } from '@kubernetes/client-node';
import { PART_OF, PART_OF_LABEL } from './apis/v1alpha1/labels.ts';
import { type KubeClient, createObject, getObject } from './kube/client.ts';
import { isAlreadyExists } from './kube/errors.ts';
import { MIN_MAC_KEY_BYTES, MacKeyring } from './secrets/mac-keyring.ts';
import { Sensitive } from './secrets/sensitive.ts';

export const HMAC_KEY_SECRET = 'vaultsync-hmac-key';
/** Data keys of the Secret: the key MACs are made with, and the one being rotated out. */
export const CURRENT_KEY = 'key';
export const PREVIOUS_KEY = 'previous';

/** The keyring from the Secret's data, or undefined when it holds no `key` yet. */
export function keyringFromSecret(secret: V1Secret | undefined, namespace: string): MacKeyring | undefined {
  const where = (k: string) => `Secret ${namespace}/${HMAC_KEY_SECRET} key "${k}"`;
  const bytes = (k: string) => {
    const b64 = secret?.data?.[k];
    return b64 === undefined ? undefined : new Sensitive<Uint8Array>(Buffer.from(b64, 'base64'));
  };
  const current = bytes(CURRENT_KEY);
  if (!current) return undefined;
  const previous = bytes(PREVIOUS_KEY);
  return new MacKeyring(current, previous ? [previous] : [], {
    current: where(CURRENT_KEY),
    previous: [where(PREVIOUS_KEY)],
  });
}

export async function loadOrCreateMacKeys(client: KubeClient, namespace: string): Promise<MacKeyring> {
  const ref = { apiVersion: 'v1', kind: 'Secret', namespace, name: HMAC_KEY_SECRET };
  const read = async () => keyringFromSecret(await getObject<V1Secret>(client, ref), namespace);
  const existing = await read();
  if (existing) return existing;
  try {
    await createObject<V1Secret>(client, {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: HMAC_KEY_SECRET, namespace, labels: { [PART_OF_LABEL]: PART_OF } },
      type: 'Opaque',
      data: { [CURRENT_KEY]: randomBytes(MIN_MAC_KEY_BYTES).toString('base64') },
    });
  } catch (err) {
    if (!isAlreadyExists(err)) throw err;
  }
  const created = await read();
  if (!created) throw new Error(`Secret ${namespace}/${HMAC_KEY_SECRET} has no key "${CURRENT_KEY}"`);
  return created;
}
