import assert from 'node:assert/strict';
import type { VaultSecretSpec } from '../../apis/v1alpha1/index.ts';
import type { Backend, CallContext, FindRequest, FoundPaths } from '../../backends/types.ts';
import { Failure } from '../failure/index.ts';
import { findAll, findRequest, findSourceKey, foundProblem } from './find.ts';

const spec = (dataFrom: VaultSecretSpec['dataFrom']): VaultSecretSpec => ({ backend: 'vault', dataFrom });

function fakeBackend(answer: (req: FindRequest) => FoundPaths, calls: [FindRequest, CallContext][] = []) {
  return {
    name: 'vault',
    type: 'vault',
    find: async (req: FindRequest, ctx: CallContext) => {
      calls.push([req, ctx]);
      return answer(req);
    },
  } as unknown as Backend;
}

describe('dataFrom find', () => {
  it('asks for the prefix, tags, name and maxItems (default 100; no path: everything)', () => {
    assert.deepEqual(findRequest({ path: 'shop/', tags: { team: 'shop' }, name: { regexp: '^shop/db' } }), {
      prefix: 'shop/',
      tags: { team: 'shop' },
      name: '^shop/db',
      maxItems: 100,
    });
    assert.deepEqual(findRequest({ name: { regexp: 'x' }, maxItems: 7, tags: {} }), {
      prefix: '',
      name: 'x',
      maxItems: 7,
    });
  });

  it('the same find is the same refresh source, whatever the order of its fields', () => {
    assert.equal(
      findSourceKey({ path: 'a/', tags: { x: '1', y: '2' } }),
      findSourceKey({ tags: { y: '2', x: '1' }, path: 'a/' }),
    );
    assert.notEqual(findSourceKey({ path: 'a/' }), findSourceKey({ path: 'b/' }));
  });

  it('refuses a result with paths outside the tenancy rules, giving their count and the prefix only', () => {
    const req = findRequest({ path: 'team-' });
    const problem = foundProblem(2, req, { paths: ['team-a/db'], truncated: false, refused: 3 });
    assert.ok(problem instanceof Failure);
    assert.equal(problem.reason, 'TenancyDenied');
    assert.match(problem.message, /dataFrom\[2\]\.find matched 3 secret\(s\) under "team-" outside/);
    assert.ok(!problem.message.includes('team-a/db'), problem.message);
  });

  it('refuses a truncated result as TooManyMatches; a clean one passes', () => {
    const req = findRequest({ path: 'shop/', maxItems: 5 });
    assert.equal(foundProblem(0, req, { paths: [], truncated: true, refused: 0 })?.reason, 'TooManyMatches');
    assert.match(foundProblem(0, req, { paths: [], truncated: true, refused: 0 })!.message, /maxItems \(5\)/);
    assert.equal(foundProblem(0, req, { paths: ['shop/a'], truncated: false, refused: 0 }), undefined);
  });

  it('runs every find with the caller context (the sharing window), keyed by dataFrom index', async () => {
    const calls: [FindRequest, CallContext][] = [];
    const backend = fakeBackend(
      (req) => ({ paths: [`${req.prefix}x`], truncated: false, refused: 0 }),
      calls,
    );
    const ctx = { namespace: 'shop', maxAgeMs: 1234 };
    const found = await findAll(
      spec([{ extract: { path: 'shop/db' } }, { find: { path: 'shop/' } }, { find: { path: 'api/' } }]),
      backend,
      ctx,
    );
    assert.deepEqual(
      [...found],
      [
        [1, ['shop/x']],
        [2, ['api/x']],
      ],
    );
    assert.deepEqual(
      calls.map(([req, c]) => [req.prefix, c.maxAgeMs, c.namespace]),
      [
        ['shop/', 1234, 'shop'],
        ['api/', 1234, 'shop'],
      ],
    );
  });

  it('asks nothing without a find, and fails clearly on a backend that cannot list', async () => {
    const calls: [FindRequest, CallContext][] = [];
    const backend = fakeBackend(() => assert.fail('no find expected'), calls);
    assert.equal((await findAll(spec([{ extract: { path: 'a' } }]), backend, { namespace: 's' })).size, 0);
    const noList = { name: 'k8s', type: 'kubernetes' } as unknown as Backend;
    await assert.rejects(
      findAll(spec([{ find: { path: 'a/' } }]), noList, { namespace: 's' }),
      (err: Failure) => err.reason === 'InvalidRequest' && /cannot list secrets/.test(err.message),
    );
  });
});
