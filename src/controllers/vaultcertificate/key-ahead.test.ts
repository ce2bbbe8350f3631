import assert from 'node:assert/strict';
import { type RsaKeyGenerator, readCsr } from '../../pki/index.ts';
import { startKeyAhead, worthKeyAhead } from './key-ahead.ts';

const NOW = Date.parse('2026-06-01T12:00:00Z');
const first = {
  mode: 'sign' as const,
  cached: false,
  writtenByUs: false,
  kept: false,
  status: undefined,
  generation: 1,
  seed: 'uid-1',
  now: NOW,
};
const request = {
  dnsNames: ['api.shop.svc'],
  ipAddresses: [],
  uris: [],
  emailAddresses: [],
  usages: ['digital signature', 'server auth'],
  isCA: false,
};
const noRsa: RsaKeyGenerator = { generate: () => Promise.reject(new Error('no RSA here')) } as never;

describe('VaultCertificate: the key made while the Secret is read', () => {
  it('is worth making for a first issuance in mode sign only', () => {
    assert.equal(worthKeyAhead(first), true);
    assert.equal(worthKeyAhead({ ...first, mode: 'issue' }), false);
    assert.equal(worthKeyAhead({ ...first, cached: true }), false);
    assert.equal(worthKeyAhead({ ...first, writtenByUs: true }), false);
    assert.equal(worthKeyAhead({ ...first, kept: true }), false);
  });

  it('is not made while the issuance backoff holds the attempt back', () => {
    const failing = {
      failedIssuanceAttempts: 3,
      lastFailureTime: new Date(NOW - 1000).toISOString(),
      observedGeneration: 1,
    };
    assert.equal(worthKeyAhead({ ...first, status: failing }), false);
    assert.equal(
      worthKeyAhead({ ...first, status: failing, generation: 2 }),
      true,
      'a new spec tries at once',
    );
  });

  it('signs its CSR with its key, for the request', async () => {
    const ahead = startKeyAhead(
      { key: { algorithm: 'ECDSA', size: 256 }, request },
      {
        rsa: noRsa,
        signal: new AbortController().signal,
      },
    );
    const key = await ahead.key;
    const { csr, request: asked } = await readCsr(await ahead.csr);
    assert.ok(Buffer.from(csr.publicKey.rawData).equals(key.spki()));
    assert.deepEqual(asked.dnsNames, ['api.shop.svc']);
  });

  it('fails where it is awaited, and dropped unawaited it is no unhandled rejection', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (err: unknown) => unhandled.push(err);
    process.on('unhandledRejection', onUnhandled);
    try {
      const signal = new AbortController().signal;
      const dropped = startKeyAhead(
        { key: { algorithm: 'RSA', size: 2048 }, request },
        { rsa: noRsa, signal },
      );
      const awaited = startKeyAhead(
        { key: { algorithm: 'RSA', size: 2048 }, request },
        { rsa: noRsa, signal },
      );
      await assert.rejects(awaited.key, /no RSA here/);
      await assert.rejects(awaited.csr, /no RSA here/);
      await new Promise((r) => setTimeout(r, 20));
      assert.deepEqual(unhandled, []);
      void dropped;
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });
});
