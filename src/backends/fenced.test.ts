// The fenced views with hand-written fake backends and issuers (they only count calls: the
// property tested is which calls the view lets through).
import assert from 'node:assert/strict';
import { LeadershipFence, NotLeaderError } from '../kube/fence.ts';
import { fencedIssuers } from '../issuers/fenced.ts';
import type { Issuer, IssuerRegistry } from '../issuers/types.ts';
import { Sensitive } from '../secrets/sensitive.ts';
import { fencedBackend, fencedBackends } from './fenced.ts';
import type { BackendRegistry } from './registry.ts';
import type { Backend, CallContext } from './types.ts';

function counting() {
  const calls: { op: string; signal?: AbortSignal }[] = [];
  const backend: Backend = {
    name: 'vault',
    type: 'vault',
    read: async (_req, ctx) => {
      calls.push({ op: 'read', signal: ctx.signal });
      return { data: new Sensitive(new Map()), version: '1' };
    },
    write: async (_req, ctx) => {
      calls.push({ op: 'write', signal: ctx.signal });
      return { version: '2' };
    },
    check: async () => {},
    close: async () => {},
  };
  const registry: BackendRegistry = {
    get: (n) => (n === 'vault' ? backend : undefined),
    names: () => ['vault'],
    checkAll: async () => new Map(),
    close: async () => {},
  };
  const cert = { certificatePem: '', chainPem: [], caPem: '', warnings: [] };
  const issuer: Issuer = {
    name: 'pki',
    type: 'vault-pki',
    supportsRevocation: true,
    sign: async (_r, ctx) => (calls.push({ op: 'sign', signal: ctx.signal }), cert),
    issue: async (_r, ctx) => (calls.push({ op: 'issue', signal: ctx.signal }), cert),
    revoke: async (_s, ctx) => void calls.push({ op: 'revoke', signal: ctx.signal }),
    check: async () => {},
    close: async () => {},
  };
  const issuers: IssuerRegistry = {
    get: (n) => (n === 'pki' ? issuer : undefined),
    names: () => ['pki'],
    close: async () => {},
  };
  return { calls, registry, issuers };
}

const ctx: CallContext = { namespace: 'shop' };
const data = new Sensitive(new Map([['k', Buffer.from('v')]]));
const order = { commonName: 'a', dnsNames: [], role: 'web' } as never;

describe('fenced backends and issuers', () => {
  it('without the fence a deposed leader WOULD write, sign and revoke', async () => {
    const { calls, registry, issuers } = counting();
    await registry.get('vault')!.write({ path: 'shop/db', data }, ctx);
    await issuers.get('pki')!.sign(order, ctx);
    await issuers.get('pki')!.revoke('0a', ctx);
    assert.deepEqual(
      calls.map((c) => c.op),
      ['write', 'sign', 'revoke'],
    );
  });

  it('let writes and issuer calls through while held, with the fence signal; refuse them after', async () => {
    const { calls, registry, issuers } = counting();
    const fence = new LeadershipFence({ renewDeadlineMs: 4000 });
    fence.renewed(fence.now());
    const backends = fencedBackends(registry, fence);
    const pki = fencedIssuers(issuers, fence).get('pki')!;
    await backends.get('vault')!.write({ path: 'shop/db', data }, ctx);
    await pki.issue(order, ctx);
    const signal = calls[0]!.signal!;
    assert.equal(signal.aborted, false);

    fence.lose('the Lease is held by replica-b');
    assert.equal(signal.aborted, true, 'a write in flight is cancelled');
    await assert.rejects(backends.get('vault')!.write({ path: 'shop/db', data }, ctx), NotLeaderError);
    await assert.rejects(pki.sign(order, ctx), NotLeaderError);
    await assert.rejects(pki.issue(order, ctx), NotLeaderError);
    await assert.rejects(pki.revoke('0a', ctx), NotLeaderError);
    await backends.get('vault')!.read({ path: 'shop/db' }, ctx); // reads are not fenced
    assert.deepEqual(
      calls.map((c) => c.op),
      ['write', 'issue', 'read'],
    );
    assert.equal(backends.get('missing'), undefined);
    assert.deepEqual(backends.names(), ['vault']);
  });

  it('fences restores and deletes like writes; finds are reads; leaves out what the backend lacks', async () => {
    const { calls, registry } = counting();
    const inner = registry.get('vault')!;
    const backend: Backend = {
      ...inner,
      find: async (_req, c) => (
        calls.push({ op: 'find', signal: c.signal }),
        { paths: [], truncated: false, refused: 0 }
      ),
      restore: async (_req, c) => (calls.push({ op: 'restore', signal: c.signal }), { version: '3' }),
      delete: async (_req, c) => void calls.push({ op: 'delete', signal: c.signal }),
    };
    const fence = new LeadershipFence({ renewDeadlineMs: 4000 });
    fence.renewed(fence.now());
    const view = fencedBackend(backend, fence);
    await view.restore!({ path: 'shop/db', version: '1' }, ctx);
    await view.delete!({ path: 'shop/db', scope: 'latest' }, ctx);
    assert.ok(
      calls.every((c) => c.signal !== undefined),
      'with the fence signal',
    );
    fence.lose('the Lease is held by replica-b');
    await assert.rejects(view.restore!({ path: 'shop/db', version: '1' }, ctx), NotLeaderError);
    await assert.rejects(view.delete!({ path: 'shop/db', scope: 'all' }, ctx), NotLeaderError);
    await view.find!({ prefix: 'shop/', maxItems: 1 }, ctx);
    assert.deepEqual(
      calls.map((c) => c.op),
      ['restore', 'delete', 'find'],
    );
    const plain = fencedBackend(inner, fence);
    assert.deepEqual([plain.find, plain.restore, plain.delete], [undefined, undefined, undefined]);
  });
});
