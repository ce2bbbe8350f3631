// What the target Secret's data should be, from the spec and the remote secrets read for
// it. Pure: no I/O, values stay inside Sensitive until they are placed into the Secret.
import type { VaultSecretSpec } from '../../apis/v1alpha1/index.ts';
import { extractProperty } from '../../backends/property.ts';
import type { RemoteSecret } from '../../backends/types.ts';
import { Sensitive } from '../../secrets/sensitive.ts';
import { type SourceRef, sourceKey } from '../shared/source-refs.ts';
import { dataFromValues, wholeSecret } from './data-from.ts';
import { checkTemplateBounds, renderTemplate } from './template.ts';

/**
 * Builds the Secret data. dataFrom entries are copied in order (data-from.ts: `found` holds the
 * paths each find entry found, by index), then data keys override them; with templates, only the
 * rendered keys are written.
 * Throws BackendError(NotFound) for a missing property, Failure(KeyConflict) for a key two
 * dataFrom sources would both write, and TemplateError for a template
 * that names a missing key or goes over the limits (template.ts) — naming keys and limits,
 * never values.
 */
export function desiredSecretData(
  spec: VaultSecretSpec,
  fetched: ReadonlyMap<string, RemoteSecret>,
  found: ReadonlyMap<number, readonly string[]> = new Map(),
): Sensitive<ReadonlyMap<string, Buffer>> {
  const read = (ref: SourceRef): RemoteSecret => {
    const secret = fetched.get(sourceKey(ref));
    if (!secret) throw new Error(`internal: ${sourceKey(ref)} was not fetched`);
    return secret;
  };
  const values = dataFromValues(spec.dataFrom ?? [], found, (path, version) =>
    read(version ? { path, version } : { path }),
  );
  for (const { secretKey, remoteRef } of spec.data ?? []) {
    const secret = read(remoteRef);
    const value = remoteRef.property
      ? extractProperty(secret, remoteRef.property, remoteRef.path).reveal()
      : wholeSecret(secret);
    values.set(secretKey, value);
  }
  const templates = spec.target?.template?.data;
  if (!templates || Object.keys(templates).length === 0) return new Sensitive(values);
  checkTemplateBounds(templates, values);
  const rendered = new Map<string, Buffer>();
  for (const [key, template] of Object.entries(templates))
    rendered.set(key, renderTemplate(template, values, key));
  return new Sensitive(rendered);
}
