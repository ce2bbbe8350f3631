import assert from 'node:assert/strict';
import { FakeRest, apiError } from '../../kube/testing.ts';
import type { RestRequest } from '../../kube/rest.ts';
import { podsPatches, restartWriteOf, rolloutPatch, templatePatch, writeRestart } from './restart-write.ts';
import type { Workload } from '../contracts.ts';

const T0 = Date.parse('2030-01-02T14:00:00.250Z');
const api = (annotations: Record<string, string> = {}, template: Record<string, string> = {}): Workload => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'api', namespace: 'shop', resourceVersion: '7', annotations },
  spec: { selector: { matchLabels: { app: 'api' } }, template: { metadata: { annotations: template } } },
});

describe('the restart write', () => {
  it('restarts by mode first, then by kind', () => {
    const ref = (kind: 'Deployment' | 'Rollout') => ({ kind, namespace: 'shop', name: 'api' });
    assert.equal(restartWriteOf('Restart', ref('Deployment')), 'template');
    assert.equal(restartWriteOf('Restart', ref('Rollout')), 'rollout');
    assert.equal(restartWriteOf('AnnotatePods', ref('Rollout')), 'pods');
  });

  it('puts the digests on the pod template, over the ones there, and says who and when', () => {
    const patch = templatePatch(
      api({}, { 'vaultsync.io/secrets-hmac': 'cache=old,db=old' }),
      { db: 'new' },
      'VaultSecret/db',
      T0,
    );
    assert.deepEqual(patch, {
      metadata: {
        annotations: {
          'vaultsync.io/pending-restart': null,
          'vaultsync.io/restarted-at': '2030-01-02T14:00:00.250Z',
          'vaultsync.io/restart-group': 'VaultSecret/db',
        },
      },
      spec: { template: { metadata: { annotations: { 'vaultsync.io/secrets-hmac': 'cache=old,db=new' } } } },
    });
  });

  it('restarts an Argo Rollout by spec.restartAt, rounded up to the second, digests on its metadata', () => {
    const patch = rolloutPatch(api({ 'vaultsync.io/secrets-hmac': 'db=old' }), { db: 'new' }, 'g/x', T0);
    assert.equal(patch.spec.restartAt, '2030-01-02T14:00:01Z');
    assert.equal(patch.metadata.annotations['vaultsync.io/secrets-hmac'], 'db=new');
    assert.equal('template' in patch.spec, false, 'the pod template is never written');
  });

  it('AnnotatePods: the pods get every digest; the workload records them without rolling', () => {
    const { pod, workload } = podsPatches(
      api({ 'vaultsync.io/pods-secrets-hmac': 'a=1' }),
      { db: '2' },
      'g/x',
      T0,
    );
    assert.deepEqual(pod, { metadata: { annotations: { 'vaultsync.io/secrets-hmac': 'a=1,db=2' } } });
    assert.equal(workload.metadata.annotations['vaultsync.io/pods-secrets-hmac'], 'a=1,db=2');
    assert.equal('spec' in workload, false);
  });

  it('AnnotatePods writes each running pod (a pod gone meanwhile is skipped), then the workload (FAKE apiserver)', async () => {
    const rest = new FakeRest((req: RestRequest) => {
      if (req.method === 'GET') {
        assert.deepEqual(req.query, { labelSelector: 'app=api' });
        return {
          items: [
            { metadata: { name: 'api-1' } },
            { metadata: { name: 'api-2', deletionTimestamp: new Date(T0) } },
            { metadata: { name: 'api-3' } },
          ],
        };
      }
      if (req.path.endsWith('/pods/api-3')) throw apiError(404, 'NotFound');
      return { metadata: { generation: 1 } };
    });
    await writeRestart(rest.client(), {
      mode: 'AnnotatePods',
      ref: { kind: 'Deployment', namespace: 'shop', name: 'api' },
      w: api(),
      digests: { db: 'd' },
      group: 'g/x',
      now: T0,
      fieldManager: 'vaultsync-reload',
    });
    const patched = rest.requests.filter((r) => r.method === 'PATCH').map((r) => r.path);
    assert.deepEqual(patched, [
      '/api/v1/namespaces/shop/pods/api-1',
      '/api/v1/namespaces/shop/pods/api-3',
      '/apis/apps/v1/namespaces/shop/deployments/api',
    ]);
  });
});
