// Private keys: ECDSA P-256 / P-384, RSA 2048 / 3072 / 4096 and Ed25519, made in the
// cluster, held as node:crypto KeyObjects (never printed), written as PKCS#8 PEM or DER, and
// handed to WebCrypto (for @peculiar/x509) only to sign. RSA keys come from worker threads
// (rsa-pool.ts); EC and Ed25519 keys from node:crypto's asynchronous jobs (libuv pool).
import {
  createPrivateKey,
  createPublicKey,
  generateKeyPair as generateKeyPairCallback,
  type KeyObject,
  type webcrypto,
} from 'node:crypto';
import { inspect, promisify } from 'node:util';
import { Sensitive } from '../secrets/sensitive.ts';
import type { RsaKeyGenerator } from './rsa-pool.ts';

const generateKeyPair = promisify(generateKeyPairCallback);

export type KeyAlgorithm = 'RSA' | 'ECDSA' | 'Ed25519';

/** A key type with its size: RSA bits, ECDSA curve size (256 or 384); Ed25519 has none. */
export interface KeySpec {
  readonly algorithm: KeyAlgorithm;
  readonly size?: number;
}

export const RSA_SIZES = [2048, 3072, 4096] as const;
export const ECDSA_SIZES = [256, 384] as const;
export const DEFAULT_KEY: KeySpec = { algorithm: 'ECDSA', size: 256 };

/** Fills in the default size of an algorithm (RSA 2048, ECDSA 256) and checks the pair. */
export function normalizeKeySpec(input: { algorithm?: string; size?: number } = {}): KeySpec {
  const algorithm = (input.algorithm ?? DEFAULT_KEY.algorithm) as KeyAlgorithm;
  switch (algorithm) {
    case 'RSA': {
      const size = input.size ?? 2048;
      if (!(RSA_SIZES as readonly number[]).includes(size)) throw new RangeError(`RSA key size ${size}`);
      return { algorithm, size };
    }
    case 'ECDSA': {
      const size = input.size ?? 256;
      if (!(ECDSA_SIZES as readonly number[]).includes(size)) throw new RangeError(`ECDSA key size ${size}`);
      return { algorithm, size };
    }
    case 'Ed25519':
      if (input.size !== undefined) throw new RangeError('Ed25519 keys have no size');
      return { algorithm };
    default:
      throw new RangeError(`unknown key algorithm ${String(algorithm)}`);
  }
}

export function keySpecEqual(a: KeySpec, b: KeySpec): boolean {
  return a.algorithm === b.algorithm && (a.size ?? 0) === (b.size ?? 0);
}

export function describeKeySpec(spec: KeySpec): string {
  return spec.algorithm === 'Ed25519' ? 'Ed25519' : `${spec.algorithm} ${spec.size}`;
}

const CURVES: Record<number, { node: string; web: string; hash: string }> = {
  256: { node: 'prime256v1', web: 'P-256', hash: 'SHA-256' },
  384: { node: 'secp384r1', web: 'P-384', hash: 'SHA-384' },
};

/** RSA signature hash by key size, as cert-manager does. */
const RSA_HASH: Record<number, string> = { 2048: 'SHA-256', 3072: 'SHA-384', 4096: 'SHA-512' };

export interface SigningKeys {
  keys: webcrypto.CryptoKeyPair;
  /** The signature algorithm for @peculiar/x509 (`signingAlgorithm`). */
  algorithm: webcrypto.AlgorithmIdentifier | webcrypto.EcdsaParams | webcrypto.RsaHashedImportParams;
}

/** A private key. Prints as [REDACTED]; the material leaves only through pem()/der(). */
export class PrivateKey {
  readonly spec: KeySpec;
  readonly #key: KeyObject;

  constructor(key: KeyObject) {
    if (key.type !== 'private') throw new TypeError('not a private key');
    this.#key = key;
    this.spec = specOf(key);
  }

  /** PKCS#8 PEM (tls.key). */
  pem(): Sensitive<string> {
    return new Sensitive(this.#key.export({ type: 'pkcs8', format: 'pem' }) as string);
  }

  /** PKCS#8 DER (key.der). */
  der(): Sensitive<Buffer> {
    return new Sensitive(this.#key.export({ type: 'pkcs8', format: 'der' }));
  }

  /** The public key as SubjectPublicKeyInfo DER (compared with a certificate's). */
  spki(): Buffer {
    return createPublicKey(this.#key).export({ type: 'spki', format: 'der' });
  }

  /** WebCrypto keys and the signature algorithm, for a CSR or a certificate. */
  signingKeys(): SigningKeys {
    const { importAlg, algorithm } = webAlgorithms(this.spec);
    return {
      keys: {
        privateKey: this.#key.toCryptoKey(importAlg, false, ['sign']),
        publicKey: createPublicKey(this.#key).toCryptoKey(importAlg, true, ['verify']),
      },
      algorithm,
    };
  }

  toString(): string {
    return '[REDACTED]';
  }
  toJSON(): string {
    return '[REDACTED]';
  }
  [inspect.custom](): string {
    return `PrivateKey(${describeKeySpec(this.spec)}) [REDACTED]`;
  }
}

function webAlgorithms(spec: KeySpec) {
  switch (spec.algorithm) {
    case 'ECDSA': {
      const curve = CURVES[spec.size ?? 256]!;
      return {
        importAlg: { name: 'ECDSA', namedCurve: curve.web },
        algorithm: { name: 'ECDSA', hash: curve.hash },
      };
    }
    case 'RSA': {
      const hash = RSA_HASH[spec.size ?? 2048] ?? 'SHA-256';
      const alg = { name: 'RSASSA-PKCS1-v1_5', hash };
      return { importAlg: alg, algorithm: alg };
    }
    case 'Ed25519':
      return { importAlg: { name: 'Ed25519' }, algorithm: { name: 'Ed25519' } };
  }
}

function specOf(key: KeyObject): KeySpec {
  switch (key.asymmetricKeyType) {
    case 'rsa':
      return { algorithm: 'RSA', size: key.asymmetricKeyDetails?.modulusLength ?? 0 };
    case 'ec': {
      const curve = key.asymmetricKeyDetails?.namedCurve;
      const size = Object.entries(CURVES).find(([, c]) => c.node === curve)?.[0];
      if (!size) throw new KeyFormatError(`unsupported EC curve ${curve ?? 'unknown'}`);
      return { algorithm: 'ECDSA', size: Number(size) };
    }
    case 'ed25519':
      return { algorithm: 'Ed25519' };
    default:
      throw new KeyFormatError(`unsupported key type ${key.asymmetricKeyType ?? 'unknown'}`);
  }
}

/** A key that cannot be read or is of a type vaultsync does not use. Never holds key bytes. */
export class KeyFormatError extends Error {
  override readonly name = 'KeyFormatError';
}

/** Reads a PEM private key (PKCS#8, or the PKCS#1 / SEC1 forms other tools write). */
export function parsePrivateKeyPem(pem: string | Buffer): PrivateKey {
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: pem, format: 'pem' });
  } catch {
    // node's message can quote the input: say only what is wrong.
    throw new KeyFormatError('tls.key does not hold a PEM private key');
  }
  return new PrivateKey(key);
}

export interface GenerateOptions {
  /** Where RSA keys come from (worker threads); required for RSA. */
  rsa?: RsaKeyGenerator;
  signal?: AbortSignal;
}

/** A new private key of the given type. */
export async function generatePrivateKey(spec: KeySpec, opts: GenerateOptions = {}): Promise<PrivateKey> {
  switch (spec.algorithm) {
    case 'ECDSA': {
      const curve = CURVES[spec.size ?? 256];
      if (!curve) throw new RangeError(`ECDSA key size ${spec.size}`);
      const { privateKey } = await generateKeyPair('ec', { namedCurve: curve.node });
      return new PrivateKey(privateKey);
    }
    case 'Ed25519': {
      const { privateKey } = await generateKeyPair('ed25519');
      return new PrivateKey(privateKey);
    }
    case 'RSA': {
      if (!opts.rsa) throw new Error('RSA keys need an RsaKeyGenerator (worker threads)');
      const der = await opts.rsa.generate(spec.size ?? 2048, opts.signal);
      try {
        return new PrivateKey(createPrivateKey({ key: der, format: 'der', type: 'pkcs8' }));
      } finally {
        der.fill(0);
      }
    }
  }
}
