// What the target Secret's data should be, from the spec and the remote secrets read for
// it. Pure: no I/O, values stay inside Sensitive until they are placed into the Secret.
import type { VaultSecretSpec } from '../../apis/v1alpha1/index.ts';
import { extractProperty } from '../../backends/property.ts';
import type { RemoteSecret } from '../../backends/types.ts';
import { Sensitive } from '../../secrets/sensitive.ts';
import { type SourceRef, sourceKey } from '../shared/source-refs.ts';
import { checkTemplateBounds, renderTemplate } from './template.ts';

/** The whole remote secret as one value: its only value, or all keys as a JSON object. */
function wholeSecret(secret: RemoteSecret): Buffer {
  const data = secret.data.reveal();
  if (data.size === 1) return [...data.values()][0] as Buffer;
  const obj: Record<string, string> = {};
  for (const [k, v] of [...data.entries()].sort(([a], [b]) => (a < b ? -1 : 1))) obj[k] = v.toString('utf8');
  return Buffer.from(JSON.stringify(obj), 'utf8');
}

/**
 * Builds the Secret data. dataFrom entries are copied in order (later wins), then data
 * keys override them; with templates, only the rendered keys are written.
 * Throws BackendError(NotFound) for a missing property and TemplateError for a template
 * that names a missing key or goes over the limits (template.ts) — naming keys and limits,
 * never values.
 */
export function desiredSecretData(
  spec: VaultSecretSpec,
  fetched: ReadonlyMap<string, RemoteSecret>,
): Sensitive<ReadonlyMap<string, Buffer>> {
  const read = (ref: SourceRef): RemoteSecret => {
    const secret = fetched.get(sourceKey(ref));
    if (!secret) throw new Error(`internal: ${sourceKey(ref)} was not fetched`);
    return secret;
  };
  const values = new Map<string, Buffer>();
  for (const { extract } of spec.dataFrom ?? []) {
    for (const [k, v] of read(extract).data.reveal()) values.set(k, v);
  }
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
