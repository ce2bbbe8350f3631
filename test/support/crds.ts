// Installs the generated CRDs (crds/*.yaml, the files users apply) and waits until the
// apiserver reports them Established.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { ObjectSerializer } from '@kubernetes/client-node/dist/gen/models/ObjectSerializer.js';
import { parseAllDocuments } from 'yaml';
import { repoRoot } from './testbed/paths.ts';

export function crdManifests(): k8s.V1CustomResourceDefinition[] {
  const dir = join(repoRoot, 'crds');
  return (
    readdirSync(dir)
      .filter((f) => f.endsWith('.yaml'))
      .flatMap((f) => parseAllDocuments(readFileSync(join(dir, f), 'utf8')).map((d) => d.toJS()))
      .filter((o) => o?.kind === 'CustomResourceDefinition')
      // client-node serialises from its model types: turn the wire-format YAML into the model
      // first, or fields such as x-kubernetes-validations are silently dropped.
      .map(
        (o) =>
          ObjectSerializer.deserialize(o, 'V1CustomResourceDefinition', '') as k8s.V1CustomResourceDefinition,
      )
  );
}

export async function installCrds(kc: k8s.KubeConfig, timeoutMs = 30_000): Promise<void> {
  const objects = k8s.KubernetesObjectApi.makeApiClient(kc);
  const ext = kc.makeApiClient(k8s.ApiextensionsV1Api);
  const crds = crdManifests();
  for (const crd of crds) {
    await objects.patch(
      crd,
      undefined,
      undefined,
      'vaultsync-tests',
      true,
      k8s.PatchStrategy.ServerSideApply,
    );
  }
  const deadline = Date.now() + timeoutMs;
  for (const crd of crds) {
    for (;;) {
      const current = await ext.readCustomResourceDefinition({ name: crd.metadata!.name! });
      const established = current.status?.conditions?.some(
        (c) => c.type === 'Established' && c.status === 'True',
      );
      if (established) break;
      if (Date.now() > deadline) throw new Error(`CRD ${crd.metadata?.name} not Established`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/** The apiserver's rejection message of a failed call (its Status.message), for assertions. */
export function rejectionMessage(err: unknown): string {
  const body = (err as { body?: unknown }).body;
  if (typeof body === 'string') {
    try {
      return (JSON.parse(body) as { message?: string }).message ?? body;
    } catch {
      return body;
    }
  }
  return (body as { message?: string } | undefined)?.message ?? String(err);
}
