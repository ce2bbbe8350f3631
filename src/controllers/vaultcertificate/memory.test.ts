import assert from 'node:assert/strict';
import type { V1Secret } from '@kubernetes/client-node';
import { certificateInfo } from '../../pki/index.ts';
import { ReplicaMemory, type Unwritten } from './memory.ts';
import { desiredCertificate, requestHash } from './spec.ts';
import { type TestCa, certificate, issuedSecret, macKeys, testCa } from './testing.ts';

const T0 = Date.UTC(2030, 0, 1);
const HOUR = 3_600_000;
const KEY = 'shop/api';

describe('VaultCertificate: what this replica remembers between reconciles', function () {
  this.timeout(10_000);
  let ca: TestCa;
  let secret: V1Secret;
  before(async () => {
    ca = await testCa(T0);
    ({ secret } = await issuedSecret(certificate(), ca, { notBefore: T0, notAfter: T0 + 720 * HOUR }));
  });
  const withRv = (rv: string): V1Secret => ({
    ...secret,
    metadata: { ...secret.metadata, resourceVersion: rv },
  });

  it('parses a Secret once per resourceVersion', () => {
    const memory = new ReplicaMemory(macKeys);
    const first = memory.observe(KEY, withRv('5'));
    assert.equal(memory.observe(KEY, withRv('5')), first);
    assert.notEqual(memory.observe(KEY, withRv('6')), first);
    assert.equal(memory.observe(KEY, undefined).exists, false);
  });

  it('reads past the cache while it does not show our own last write', () => {
    const memory = new ReplicaMemory(macKeys);
    assert.equal(
      memory.cacheBehind(KEY, 'api-tls', withRv('5')),
      false,
      'nothing written: the cache is fine',
    );
    memory.written.set(KEY, {
      secretName: 'api-tls',
      secretResourceVersion: '7',
      mac: 'm',
      revision: 1,
      serialNumber: 's',
      issuer: 'ca',
    });
    assert.equal(memory.cacheBehind(KEY, 'api-tls', withRv('5')), true);
    assert.equal(memory.cacheBehind(KEY, 'api-tls', withRv('7')), false);
    assert.equal(memory.cacheBehind(KEY, 'other-tls', withRv('5')), false, 'another Secret: never written');
  });

  it('knows its last write while the Secret holds the same material, following its resourceVersion', () => {
    const memory = new ReplicaMemory(macKeys);
    const observed = memory.observe(KEY, withRv('9'));
    memory.written.set(KEY, {
      secretName: 'api-tls',
      secretResourceVersion: '7',
      mac: observed.mac!,
      revision: 1,
      serialNumber: 's',
      issuer: 'ca',
    });
    assert.equal(memory.stillHeld(KEY, 'api-tls', observed)?.secretResourceVersion, '9');
    assert.equal(memory.stillHeld(KEY, 'renamed-tls', observed), undefined);
    memory.written.get(KEY)!.mac = 'something else';
    assert.equal(memory.stillHeld(KEY, 'api-tls', observed), undefined);
  });

  it('keeps an issued certificate whose Secret write failed only for the same generation and request, until due', () => {
    const vc = certificate({ duration: '720h', renewBefore: '240h' });
    const desired = desiredCertificate(vc);
    const kept: Unwritten = {
      generation: 1,
      requestHash: requestHash(desired),
      revision: 2,
      issued: { certificatePem: '', chainPem: [], caPem: '', warnings: [] },
      key: undefined as never,
      cert: certificateInfo(Buffer.from(secret.data!['tls.crt']!, 'base64').toString()),
    };
    const memory = new ReplicaMemory(macKeys);
    memory.unwritten.set(KEY, kept);
    assert.equal(memory.kept(vc, KEY, desired, T0), kept);
    assert.equal(memory.kept(vc, KEY, desired, T0 + 700 * HOUR), undefined, 'due for renewal: dropped');
    assert.equal(memory.kept(vc, KEY, desired, T0), undefined, 'and forgotten');
    memory.unwritten.set(KEY, kept);
    const changed = certificate(
      { duration: '720h', renewBefore: '240h', dnsNames: ['other.shop.svc'] },
      { generation: 2 },
    );
    assert.equal(memory.kept(changed, KEY, desiredCertificate(changed), T0), undefined);
  });

  it('the highest revision known, and forgetting a deleted resource', () => {
    const memory = new ReplicaMemory(macKeys);
    const vc = { ...certificate(), status: { revision: 3 } };
    const observed = memory.observe(KEY, withRv('5'));
    memory.written.set(KEY, {
      secretName: 'api-tls',
      secretResourceVersion: '5',
      mac: 'm',
      revision: 4,
      serialNumber: 's',
      issuer: 'ca',
    });
    assert.equal(memory.revisionSoFar(vc, KEY, observed), 4);
    memory.forget(KEY);
    assert.equal(memory.revisionSoFar(vc, KEY, observed), 3);
    assert.equal(memory.cacheBehind(KEY, 'api-tls', withRv('1')), false);
  });
});
