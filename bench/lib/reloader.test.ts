import assert from 'node:assert/strict';
import {
  RELOADER_ANNOTATION,
  RELOADER_DIGEST,
  dataChanged,
  dataDigest,
  digestPatch,
  secretIndex,
} from './reloader.ts';

describe('the reload baseline (Reloader as a script)', () => {
  it('digests data independently of key order, and tells different data apart', () => {
    assert.equal(dataDigest({ a: 'x', b: 'y' }), dataDigest({ b: 'y', a: 'x' }));
    assert.notEqual(dataDigest({ a: 'x' }), dataDigest({ a: 'y' }));
    // The separator keeps a key's end from sliding into its value.
    assert.notEqual(dataDigest({ ab: 'c' }), dataDigest({ a: 'bc' }));
    assert.equal(dataDigest(undefined), dataDigest({}));
  });

  it('indexes the Deployments by the Secret their annotation names', () => {
    const d = (name: string, secret?: string) => ({
      metadata: { name, ...(secret && { annotations: { [RELOADER_ANNOTATION]: secret } }) },
    });
    const index = secretIndex([d('a', 's1'), d('b', 's2'), d('c', 's1'), d('plain')]);
    assert.deepEqual(
      [...index.entries()],
      [
        ['s1', ['a', 'c']],
        ['s2', ['b']],
      ],
    );
  });

  it('restarts on a change of data, not on the first sight of a Secret', () => {
    assert.equal(dataChanged(undefined, 'd1'), false);
    assert.equal(dataChanged('d1', 'd1'), false);
    assert.equal(dataChanged('d1', 'd2'), true);
  });

  it('puts the digest on the pod template, where a change rolls the pods', () => {
    assert.deepEqual(digestPatch('s=abc'), {
      spec: { template: { metadata: { annotations: { [RELOADER_DIGEST]: 's=abc' } } } },
    });
  });
});
