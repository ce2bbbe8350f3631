import assert from 'node:assert/strict';
import { createPrivateKey, createPublicKey, sign, verify } from 'node:crypto';
import { inspect } from 'node:util';
import {
  CHARACTER_CLASSES,
  GeneratorError,
  type GeneratorDefaults,
  type RandomSource,
  cryptoRandom,
  generatePassword,
  generateRandomBytes,
  generateUuid,
  generateValues,
  outputKeys,
} from './generators.ts';

const DEFAULTS: GeneratorDefaults = {
  password: { length: 32, lowercase: true, uppercase: true, digits: true, symbols: false },
  randomBytes: { length: 32, encoding: 'base64' },
  keyPair: { algorithm: 'ECDSA' },
};

/** Deterministic "randomness" for exact assertions. */
function sequence(values: number[]): RandomSource {
  let i = 0;
  return {
    bytes: (n) => Buffer.from(Array.from({ length: n }, (_, k) => (k * 37 + 11) & 0xff)),
    int: (max) => (values[i++ % values.length] ?? 0) % max,
  };
}

describe('generators', () => {
  describe('generatePassword', () => {
    const base = { length: 32, lowercase: true, uppercase: true, digits: true, symbols: false };

    it('has the requested length and only characters of the enabled classes', () => {
      for (let i = 0; i < 50; i++) {
        const p = generatePassword(base);
        assert.equal(p.length, 32);
        assert.match(p, /^[a-zA-Z0-9]+$/);
      }
    });

    it('contains at least one character of every enabled class', () => {
      for (let i = 0; i < 200; i++) {
        const p = generatePassword({ ...base, length: 4, symbols: true });
        assert.match(p, /[a-z]/);
        assert.match(p, /[A-Z]/);
        assert.match(p, /[0-9]/);
        assert.ok(
          [...p].some((c) => CHARACTER_CLASSES.symbols.includes(c)),
          p,
        );
      }
    });

    it('never uses an excluded character', () => {
      const exclude = 'lI1O0oabcdefghijk';
      for (let i = 0; i < 100; i++) {
        const p = generatePassword({ ...base, exclude });
        for (const c of exclude) assert.equal(p.includes(c), false, `${c} in ${p}`);
      }
    });

    it('uses only digits when only digits are enabled', () => {
      assert.match(
        generatePassword({ length: 12, lowercase: false, uppercase: false, digits: true, symbols: false }),
        /^[0-9]{12}$/,
      );
    });

    it('refuses when every character is excluded', () => {
      assert.throws(
        () =>
          generatePassword({
            length: 8,
            lowercase: false,
            uppercase: false,
            digits: true,
            symbols: false,
            exclude: '0123456789',
          }),
        GeneratorError,
      );
    });

    it('draws every character through the injected source (uniform picks, Fisher–Yates shuffle)', () => {
      const p = generatePassword(
        { length: 8, lowercase: true, uppercase: false, digits: false, symbols: false },
        sequence([0]),
      );
      assert.equal(p, 'aaaaaaaa');
    });

    it('spreads characters evenly over the alphabet', () => {
      const counts = new Map<string, number>();
      for (let i = 0; i < 400; i++) {
        for (const c of generatePassword({ ...base, length: 64, uppercase: false, digits: false }))
          counts.set(c, (counts.get(c) ?? 0) + 1);
      }
      // 25,600 draws over 26 letters: about 985 each; a biased pick would stand out.
      assert.equal(counts.size, 26);
      for (const [c, n] of counts) assert.ok(n > 800 && n < 1200, `${c}: ${n}`);
    });
  });

  describe('generateRandomBytes', () => {
    it('encodes the requested number of bytes as base64 or hex', () => {
      assert.equal(Buffer.from(generateRandomBytes(32, 'base64'), 'base64').length, 32);
      assert.match(generateRandomBytes(16, 'hex'), /^[0-9a-f]{32}$/);
    });
  });

  describe('generateUuid', () => {
    it('is a version 4, variant 1 UUID', () => {
      assert.match(generateUuid(), /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      assert.notEqual(generateUuid(cryptoRandom), generateUuid(cryptoRandom));
    });
  });

  describe('generateValues', () => {
    it('fills every key, key pairs as <key> (PKCS#8) and <key>.pub (SPKI), and prints as [REDACTED]', async function () {
      this.timeout(20_000);
      const values = await generateValues(
        {
          password: { type: 'password', length: 20 },
          token: { type: 'randomBytes', encoding: 'hex', length: 8 },
          id: { type: 'uuid' },
          signing: { type: 'keyPair', algorithm: 'Ed25519' },
          tls: { type: 'keyPair' },
          legacy: { type: 'keyPair', algorithm: 'RSA', size: 2048 },
        },
        DEFAULTS,
      );
      assert.equal(inspect(values), '[REDACTED]');
      assert.equal(JSON.stringify({ values }), '{"values":"[REDACTED]"}');
      const data = values.reveal();
      assert.deepEqual(
        [...data.keys()].sort(),
        [
          'id',
          'legacy',
          'legacy.pub',
          'password',
          'signing',
          'signing.pub',
          'tls',
          'tls.pub',
          'token',
        ].sort(),
      );
      assert.equal(data.get('password')?.toString().length, 20);
      assert.match(data.get('token')?.toString() ?? '', /^[0-9a-f]{16}$/);
      for (const [key, type, detail] of [
        ['signing', 'ed25519', undefined],
        ['tls', 'ec', 'prime256v1'],
        ['legacy', 'rsa', 2048],
      ] as const) {
        const priv = createPrivateKey(data.get(key)!.toString());
        const pub = createPublicKey(data.get(`${key}.pub`)!.toString());
        assert.equal(priv.asymmetricKeyType, type);
        assert.match(data.get(key)!.toString(), /^-----BEGIN PRIVATE KEY-----/);
        if (type === 'ec') assert.equal(priv.asymmetricKeyDetails?.namedCurve, detail);
        if (type === 'rsa') assert.equal(priv.asymmetricKeyDetails?.modulusLength, detail);
        const msg = Buffer.from('hello');
        const alg = type === 'ed25519' ? null : 'sha256';
        assert.ok(verify(alg, msg, pub, sign(alg, msg, priv)), `${key}: the public key matches`);
      }
    });

    it('applies the defaults (32-character password, 32 bytes base64)', async () => {
      const data = (
        await generateValues({ p: { type: 'password' }, b: { type: 'randomBytes' } }, DEFAULTS)
      ).reveal();
      assert.match(data.get('p')!.toString(), /^[a-zA-Z0-9]{32}$/);
      assert.equal(Buffer.from(data.get('b')!.toString(), 'base64').length, 32);
    });

    it('names the keys a generator writes', () => {
      assert.deepEqual(outputKeys('k', { type: 'keyPair' }), ['k', 'k.pub']);
      assert.deepEqual(outputKeys('k', { type: 'uuid' }), ['k']);
    });
  });
});
