// Logic-less templates for derived keys: `{{ name }}` is replaced by the value of key
// `name` of the fetched data; nothing else is interpreted. A reference to a missing key is
// an error that names the key (never a value).

const placeholder = /\{\{\s*([-._a-zA-Z0-9]+)\s*\}\}/g;

export class TemplateError extends Error {
  override name = 'TemplateError';
}

/** Names a template refers to, in order of first use. */
export function templateReferences(template: string): string[] {
  return [...new Set([...template.matchAll(placeholder)].map((m) => m[1] as string))];
}

export function renderTemplate(template: string, values: ReadonlyMap<string, Buffer>, key: string): Buffer {
  const missing = templateReferences(template).filter((name) => !values.has(name));
  if (missing.length > 0) {
    throw new TemplateError(`template for key "${key}" refers to missing key(s): ${missing.join(', ')}`);
  }
  return Buffer.from(
    template.replace(placeholder, (_m, name: string) => (values.get(name) as Buffer).toString('utf8')),
    'utf8',
  );
}
