// The keyed MACs vaultsync writes where tenants can read them (VaultSecret status.secretMAC,
// VaultCertificate status.certificateMAC, pod-template digests, SecretRotation data digests).
// Each is bound to its object: the key is derived per namespace and per use with HKDF from the
// master key (Secret vaultsync-hmac-key), and the MAC covers namespace, kind, name and data. So
// equal values in two namespaces, or in two Secrets of one namespace, give unrelated MACs, and a
// MAC of one use never verifies as another.
//
// The master key is rotatable: MACs are made with the current key; a MAC made with a previous
// key, or by the v1 scheme (one global key over the data only), is still accepted as matching
// the data, so an upgrade or a key change rewrites each status once and never a Secret.
import { hkdfSync } from 'node:crypto';
import { inspect } from 'node:util';
import { LRUCache } from 'lru-cache';
import { type SecretDataMap, encodeSecretData, macEqual, secretDataMac } from './hmac.ts';
import { Sensitive } from './sensitive.ts';

/** Shortest master key accepted: HMAC-SHA256 wants at least its output size. */
export const MIN_MAC_KEY_BYTES = 32;

const V2_PREFIX = 'hmac-sha256:v2:';
const HKDF_SALT = Buffer.from('vaultsync mac keys v2', 'utf8');
/** Derived keys kept (least recently used go first; one derivation costs microseconds). */
const MAX_CACHED_KEYS = 4096;
/** 3 bytes: 4 characters of base64url. */
const KEY_ID_BYTES = 3;

/** What a MAC is for; part of the key derivation (domain separation). */
export const MacUse = {
  /** VaultSecret status.secretMAC: the data vaultsync wrote into the target Secret. */
  VaultSecret: 'vaultsecret.secretMAC',
  /** VaultCertificate status.certificateMAC: tls.crt, tls.key and ca.crt of its Secret. */
  VaultCertificate: 'vaultcertificate.certificateMAC',
  /** SecretRotation: the data of a version, compared without keeping it. */
  SecretRotation: 'secretrotation.data',
  /** The digests on a workload's pod template (or its pods) that say which data it runs with. */
  PodTemplate: 'workload.podTemplate',
  /** A pending restart recorded in the operator's namespace: only the operator's own records count. */
  PendingRestart: 'workload.pendingRestart',
} as const;
export type MacUse = (typeof MacUse)[keyof typeof MacUse];

/** The object a MAC belongs to. */
export interface MacSubject {
  namespace: string;
  /** e.g. `Secret`, `SecretRotation`, `Deployment`. */
  kind: string;
  name: string;
}

/** How a MAC relates to data: made with the current key and scheme, or only still accepted. */
export type MacVerdict = 'current' | 'accepted' | 'mismatch';

/** A MAC function bound to one use and object. */
export interface BoundMac {
  mac(data: SecretDataMap): string;
  /** `accepted`: a previous key or the v1 scheme; worth rewriting, not a change of data. */
  verdict(data: SecretDataMap, mac: string): MacVerdict;
}

export class MacKeyError extends Error {
  override name = 'MacKeyError';
}

function checkKeyLength(key: Uint8Array, what: string): void {
  if (key.byteLength < MIN_MAC_KEY_BYTES) {
    throw new MacKeyError(
      `${what} holds ${key.byteLength} bytes; a MAC key needs at least ${MIN_MAC_KEY_BYTES} random bytes (e.g. openssl rand -base64 32)`,
    );
  }
}

function lengthPrefixed(parts: readonly string[]): Buffer {
  const chunks: Buffer[] = [];
  for (const part of parts) {
    const bytes = Buffer.from(part, 'utf8');
    const length = Buffer.alloc(4);
    length.writeUInt32BE(bytes.length);
    chunks.push(length, bytes);
  }
  return Buffer.concat(chunks);
}

export class MacKeyring {
  /** Current key first, then previous ones. */
  readonly #keys: readonly Sensitive<Uint8Array>[];
  readonly #derived = new LRUCache<string, Buffer>({ max: MAX_CACHED_KEYS });
  /** Short public name of the current key (a hash, not the key): tells digests of other keys apart. */
  readonly keyId: string;

  /**
   * `current` makes every MAC; `previous` keys (a key being rotated out) only verify. Each must
   * hold at least 32 bytes; `names` say where each came from, for the error.
   */
  constructor(
    current: Sensitive<Uint8Array>,
    previous: readonly Sensitive<Uint8Array>[] = [],
    names: { current?: string; previous?: readonly string[] } = {},
  ) {
    checkKeyLength(current.reveal(), names.current ?? 'the MAC key');
    previous.forEach((k, i) => checkKeyLength(k.reveal(), names.previous?.[i] ?? 'a previous MAC key'));
    this.#keys = [current, ...previous];
    this.keyId = Buffer.from(
      hkdfSync('sha256', current.reveal(), HKDF_SALT, 'key-id', KEY_ID_BYTES),
    ).toString('base64url');
  }

  /** The MAC of `data` for this use and object, with the current key (`hmac-sha256:v2:...`). */
  mac(use: MacUse, subject: MacSubject, data: SecretDataMap): string {
    return V2_PREFIX + this.#v2(0, use, subject, data);
  }

  /**
   * Does `mac` (from a status or an annotation, maybe made before an upgrade or a key change)
   * belong to this data? `current` when it is what `mac()` gives now.
   */
  verdict(use: MacUse, subject: MacSubject, data: SecretDataMap, mac: string): MacVerdict {
    if (macEqual(mac, this.mac(use, subject, data))) return 'current';
    if (mac.startsWith(V2_PREFIX)) {
      for (let i = 1; i < this.#keys.length; i++) {
        if (macEqual(mac, V2_PREFIX + this.#v2(i, use, subject, data))) return 'accepted';
      }
      return 'mismatch';
    }
    // The v1 scheme: the master key itself over the data alone.
    return this.#keys.some((key) => macEqual(mac, secretDataMac(key, data))) ? 'accepted' : 'mismatch';
  }

  /** `verdict(...) !== 'mismatch'`. */
  accepts(use: MacUse, subject: MacSubject, data: SecretDataMap, mac: string): boolean {
    return this.verdict(use, subject, data, mac) !== 'mismatch';
  }

  /** The functions of one use and object, for code that should not see the others. */
  bind(use: MacUse, subject: MacSubject): BoundMac {
    return {
      mac: (data) => this.mac(use, subject, data),
      verdict: (data, mac) => this.verdict(use, subject, data, mac),
    };
  }

  #v2(index: number, use: MacUse, subject: MacSubject, data: SecretDataMap): string {
    const key = this.#derive(index, use, subject.namespace);
    return encodeSecretData(key, lengthPrefixed([subject.namespace, subject.kind, subject.name]), data);
  }

  /** HKDF-SHA256(master, salt, info = use + namespace): one key per namespace and use. */
  #derive(index: number, use: MacUse, namespace: string): Buffer {
    const id = `${index}\u0000${use}\u0000${namespace}`;
    let key = this.#derived.get(id);
    if (!key) {
      const info = lengthPrefixed([use, namespace]);
      key = Buffer.from(hkdfSync('sha256', this.#keys[index]!.reveal(), HKDF_SALT, info, 32));
      this.#derived.set(id, key);
    }
    return key;
  }

  toString(): string {
    return `MacKeyring(${this.keyId})`;
  }

  toJSON(): string {
    return this.toString();
  }

  [inspect.custom](): string {
    return this.toString();
  }
}
