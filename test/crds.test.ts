// The CRDs against the real apiserver: they install, the samples are accepted, and invalid
// resources are rejected at admission with a message that says what to fix.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { testbed } from './support/testbed.ts';
import { installCrds, crdManifests, rejectionMessage } from './support/crds.ts';
import { repoRoot } from './support/testbed/paths.ts';
import { loadInvalidCases } from './admission/cases.ts';

const namespace = 'crd-checks';

function samples(): k8s.KubernetesObject[] {
  const dir = join(repoRoot, 'config/samples');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml')
    .flatMap((f) => parseAllDocuments(readFileSync(join(dir, f), 'utf8')).map((d) => d.toJS()))
    .filter((o) => o?.apiVersion?.startsWith('vaultsync.io/'));
}

describe('CRDs on the real apiserver', function () {
  let objects: k8s.KubernetesObjectApi;

  before(async function () {
    this.timeout(180_000);
    const kc = (await testbed()).kubeConfig();
    await installCrds(kc);
    objects = k8s.KubernetesObjectApi.makeApiClient(kc);
    await kc
      .makeApiClient(k8s.CoreV1Api)
      .createNamespace({ body: { metadata: { name: namespace } } })
      .catch((err: { code?: number }) => {
        if (err.code !== 409) throw err;
      });
  });

  it('become Established with the vaultsync category and short names', async () => {
    const names = crdManifests().map((c) => c.spec.names);
    assert.deepEqual(names.map((n) => n.kind).sort(), ['SecretRotation', 'VaultCertificate', 'VaultSecret']);
    for (const n of names) {
      assert.ok(n.categories?.includes('vaultsync'), `${n.kind} in category vaultsync`);
      assert.ok((n.shortNames ?? []).length > 0, `${n.kind} has a short name`);
    }
  });

  it('accept every sample in config/samples (server-side dry run)', async () => {
    const all = samples();
    assert.ok(all.length >= 3, 'at least one sample per kind');
    for (const sample of all) {
      await objects.create({ ...sample, metadata: { ...sample.metadata, namespace } }, undefined, 'All');
    }
  });

  describe('reject invalid resources with a message that says what to fix', () => {
    const cases = loadInvalidCases();
    it('has at least 15 cases', () => assert.ok(cases.length >= 15, `${cases.length} cases`));
    for (const c of cases) {
      it(c.file, async () => {
        const object = c.object as k8s.KubernetesObject;
        const err = await objects
          .create({ ...object, metadata: { ...object.metadata, namespace } }, undefined, 'All')
          .then(
            () => undefined,
            (e: unknown) => e,
          );
        assert.ok(err, `${c.file} was accepted, expected a rejection containing "${c.expect}"`);
        assert.equal((err as { code?: number }).code, 422, rejectionMessage(err));
        assert.ok(
          rejectionMessage(err).includes(c.expect),
          `expected "${c.expect}" in: ${rejectionMessage(err)}`,
        );
      });
    }
  });
});
