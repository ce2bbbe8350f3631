import assert from 'node:assert/strict';
import type { KubernetesObject } from '@kubernetes/client-node';
import { enqueueHandlers } from './informer-handlers.ts';
import { OwnWrites, skippingEchoes } from './own-writes.ts';

const secret = (rv: string): KubernetesObject => ({
  apiVersion: 'v1',
  kind: 'Secret',
  metadata: { name: 's', namespace: 'ns', resourceVersion: rv },
});

describe('own writes', () => {
  it('an event at the version we wrote is an echo, once; any other event is news', () => {
    const writes = new OwnWrites();
    writes.record('ns/s', '5');
    assert.equal(writes.isEcho('ns/s', '5'), true);
    assert.equal(writes.isEcho('ns/s', '5'), false, 'one echo per write');
    writes.record('ns/s', '6');
    assert.equal(writes.isEcho('ns/s', '7'), false, 'someone wrote after us');
    assert.equal(writes.size, 0, 'an entry lives until the next event of its object');
    writes.record('ns/s', undefined);
    assert.equal(writes.size, 0);
  });

  it('skippingEchoes drops the echo of our write, passes others, replays and deletions', () => {
    const writes = new OwnWrites();
    const seen: string[] = [];
    const h = skippingEchoes(
      enqueueHandlers<KubernetesObject>(
        (k) => seen.push(`enqueue ${k}`),
        undefined,
        (k) => seen.push(`replay ${k}`),
      ),
      writes,
    );
    writes.record('ns/s', '2');
    h.add!(secret('2'));
    assert.deepEqual(seen, [], 'the add of the Secret we created');
    writes.record('ns/s', '3');
    h.update!(secret('2'), secret('3'));
    assert.deepEqual(seen, [], 'the update we applied');
    h.update!(secret('3'), secret('4'));
    assert.deepEqual(seen, ['enqueue ns/s'], 'an edit by someone else');
    writes.record('ns/s', '4');
    h.update!(secret('4'), secret('4'));
    assert.deepEqual(seen.at(-1), 'replay ns/s', 'a resync replay goes through');
    writes.record('ns/s', '5');
    h.delete!(secret('5'));
    assert.deepEqual(seen.at(-1), 'enqueue ns/s', 'a deletion always goes through');
    assert.equal(writes.size, 0);
  });
});
