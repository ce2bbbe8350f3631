// Generators for rotated values: passwords (character classes, exclusions), random bytes
// (base64 or hex), UUIDs (version 4) and key pairs (RSA, ECDSA, Ed25519; PKCS#8 and SPKI PEM).
// Randomness is injected (`RandomSource`) so the logic is testable; production uses node:crypto,
// which draws from the OS CSPRNG. Every value leaves this module inside a `Sensitive`.
import { generateKeyPair as generateKeyPairCb, randomBytes, randomInt } from 'node:crypto';
import { Sensitive } from './sensitive.ts';

/** Where random numbers come from. Both must be cryptographically secure in production. */
export interface RandomSource {
  /** `n` random bytes. */
  bytes(n: number): Buffer;
  /** A uniformly distributed integer in [0, max). */
  int(max: number): number;
}

export const cryptoRandom: RandomSource = {
  bytes: (n) => randomBytes(n),
  int: (max) => randomInt(max),
};

/** A generator the spec cannot satisfy (all characters excluded, ...): a user error. */
export class GeneratorError extends Error {
  override readonly name = 'GeneratorError';
}

export const CHARACTER_CLASSES = {
  lowercase: 'abcdefghijklmnopqrstuvwxyz',
  uppercase: 'ABCDEFGHIJKLMNOPQRSTUVWXYZ',
  digits: '0123456789',
  // Printable ASCII punctuation without quotes, backslash, backtick and space.
  symbols: '!#$%&()*+,-./:;<=>?@[]^_{|}~',
} as const;

export interface PasswordOptions {
  length: number;
  lowercase: boolean;
  uppercase: boolean;
  digits: boolean;
  symbols: boolean;
  /** Characters never to use. */
  exclude?: string;
}

/**
 * A password of `length` characters drawn uniformly from the enabled classes minus `exclude`,
 * with at least one character of every enabled (non-empty) class when the length allows it.
 */
export function generatePassword(opts: PasswordOptions, random: RandomSource = cryptoRandom): string {
  const excluded = new Set(opts.exclude ?? '');
  const classes = (Object.keys(CHARACTER_CLASSES) as (keyof typeof CHARACTER_CLASSES)[])
    .filter((name) => opts[name])
    .map((name) => [...CHARACTER_CLASSES[name]].filter((c) => !excluded.has(c)))
    .filter((chars) => chars.length > 0);
  const alphabet = classes.flat();
  if (alphabet.length === 0) {
    throw new GeneratorError('no characters left to build a password: enable a class or exclude fewer');
  }
  if (!Number.isInteger(opts.length) || opts.length < 1)
    throw new GeneratorError('password length must be at least 1');
  const chars: string[] = [];
  // One of each class first (when there is room), the rest from the whole alphabet, then shuffle.
  if (opts.length >= classes.length) for (const set of classes) chars.push(pick(set, random));
  while (chars.length < opts.length) chars.push(pick(alphabet, random));
  for (let i = chars.length - 1; i > 0; i--) {
    const j = random.int(i + 1);
    [chars[i], chars[j]] = [chars[j]!, chars[i]!];
  }
  return chars.join('');
}

function pick(set: readonly string[], random: RandomSource): string {
  return set[random.int(set.length)]!;
}

export function generateRandomBytes(
  length: number,
  encoding: 'base64' | 'hex',
  random: RandomSource = cryptoRandom,
): string {
  if (!Number.isInteger(length) || length < 1)
    throw new GeneratorError('randomBytes length must be at least 1');
  return random.bytes(length).toString(encoding);
}

/** A random (version 4, RFC 9562) UUID. */
export function generateUuid(random: RandomSource = cryptoRandom): string {
  const b = Buffer.from(random.bytes(16));
  b[6] = (b[6]! & 0x0f) | 0x40;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

export type KeyPairAlgorithm = 'RSA' | 'ECDSA' | 'Ed25519';

export interface PemKeyPair {
  /** PKCS#8 PEM. */
  privateKey: Sensitive<string>;
  /** SPKI PEM (not secret, but it travels with the private key). */
  publicKey: string;
}

/** A key pair, generated off the event loop (libuv thread pool). */
export function generateKeyPair(algorithm: KeyPairAlgorithm, size?: number): Promise<PemKeyPair> {
  const encoding = {
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  } as const;
  return new Promise((resolve, reject) => {
    const done = (err: Error | null, publicKey: string, privateKey: string) =>
      err ? reject(err) : resolve({ privateKey: new Sensitive(privateKey), publicKey });
    switch (algorithm) {
      case 'RSA':
        return generateKeyPairCb('rsa', { modulusLength: size ?? 2048, ...encoding }, done);
      case 'ECDSA':
        return generateKeyPairCb(
          'ec',
          { namedCurve: (size ?? 256) === 384 ? 'P-384' : 'P-256', ...encoding },
          done,
        );
      case 'Ed25519':
        return generateKeyPairCb('ed25519', encoding, done);
      default:
        reject(new GeneratorError(`unknown key algorithm "${String(algorithm)}"`));
    }
  });
}

/** One generator of a SecretRotation (`spec.generate.<key>`), defaults not yet applied. */
export interface GeneratorSpec {
  type: 'password' | 'randomBytes' | 'uuid' | 'keyPair';
  length?: number;
  lowercase?: boolean;
  uppercase?: boolean;
  digits?: boolean;
  symbols?: boolean;
  exclude?: string;
  encoding?: 'base64' | 'hex';
  algorithm?: KeyPairAlgorithm;
  size?: number;
}

export interface GeneratorDefaults {
  password: { length: number; lowercase: boolean; uppercase: boolean; digits: boolean; symbols: boolean };
  randomBytes: { length: number; encoding: 'base64' | 'hex' };
  keyPair: { algorithm: KeyPairAlgorithm };
}

/** The keys a generator writes: `<key>`, and `<key>.pub` for a key pair. */
export function outputKeys(key: string, spec: Pick<GeneratorSpec, 'type'>): string[] {
  return spec.type === 'keyPair' ? [key, `${key}.pub`] : [key];
}

/**
 * Runs every generator. Returns key → value (UTF-8 text), wrapped. Key pairs give two keys:
 * `<key>` (private, PKCS#8 PEM) and `<key>.pub` (public, SPKI PEM).
 */
export async function generateValues(
  generate: Readonly<Record<string, GeneratorSpec>>,
  defaults: GeneratorDefaults,
  random: RandomSource = cryptoRandom,
): Promise<Sensitive<ReadonlyMap<string, Buffer>>> {
  const out = new Map<string, Buffer>();
  for (const [key, spec] of Object.entries(generate).sort(([a], [b]) => (a < b ? -1 : 1))) {
    switch (spec.type) {
      case 'password': {
        const d = defaults.password;
        const value = generatePassword(
          {
            length: spec.length ?? d.length,
            lowercase: spec.lowercase ?? d.lowercase,
            uppercase: spec.uppercase ?? d.uppercase,
            digits: spec.digits ?? d.digits,
            symbols: spec.symbols ?? d.symbols,
            exclude: spec.exclude,
          },
          random,
        );
        out.set(key, Buffer.from(value, 'utf8'));
        break;
      }
      case 'randomBytes': {
        const d = defaults.randomBytes;
        out.set(
          key,
          Buffer.from(
            generateRandomBytes(spec.length ?? d.length, spec.encoding ?? d.encoding, random),
            'utf8',
          ),
        );
        break;
      }
      case 'uuid':
        out.set(key, Buffer.from(generateUuid(random), 'utf8'));
        break;
      case 'keyPair': {
        const pair = await generateKeyPair(spec.algorithm ?? defaults.keyPair.algorithm, spec.size);
        out.set(key, Buffer.from(pair.privateKey.reveal(), 'utf8'));
        out.set(`${key}.pub`, Buffer.from(pair.publicKey, 'utf8'));
        break;
      }
      default:
        throw new GeneratorError(`unknown generator type "${String((spec as { type: unknown }).type)}"`);
    }
  }
  return new Sensitive(out);
}
