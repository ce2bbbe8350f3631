// Logic-less templates for derived keys: `{{ name }}` is replaced by the value of key
// `name` of the fetched data; nothing else is interpreted. A reference to a missing key is
// an error that names the key (never a value).
//
// The templates of one Secret are bounded before anything is rendered (checkTemplateBounds):
// a few placeholders over a large value would otherwise build a string of hundreds of MB,
// blocking the event loop and exhausting memory for every tenant.

const placeholder = /\{\{\s*([-._a-zA-Z0-9]+)\s*\}\}/g;

export class TemplateError extends Error {
  override name = 'TemplateError';
}

/** Limits per Secret, over all its templates. */
export interface TemplateLimits {
  /** Bytes of rendered output. */
  maxOutputBytes: number;
  /** Placeholders (each use counts). */
  maxPlaceholders: number;
}

export const TEMPLATE_LIMITS: TemplateLimits = { maxOutputBytes: 1024 * 1024, maxPlaceholders: 1000 };

/**
 * Refuses templates whose output would exceed the limits, from the placeholder counts and the
 * sizes of the values they name: nothing is rendered, no large string is built. The message
 * names the limit, never a size that would tell a value's length.
 */
export function checkTemplateBounds(
  templates: Readonly<Record<string, string>>,
  values: ReadonlyMap<string, Buffer>,
  limits: TemplateLimits = TEMPLATE_LIMITS,
): void {
  // Bytes of each value as rendered (decoded as UTF-8, as renderTemplate does), once per name.
  const rendered = new Map<string, number>();
  const sizeOf = (name: string): number => {
    let size = rendered.get(name);
    if (size === undefined) {
      const value = values.get(name);
      size = value === undefined ? 0 : Buffer.byteLength(value.toString('utf8'), 'utf8');
      rendered.set(name, size);
    }
    return size;
  };
  let placeholders = 0;
  let bytes = 0;
  for (const template of Object.values(templates)) {
    bytes += Buffer.byteLength(template, 'utf8');
    for (const m of template.matchAll(placeholder)) {
      if (++placeholders > limits.maxPlaceholders) {
        throw new TemplateError(
          `templates use more than ${limits.maxPlaceholders} placeholders, the limit per Secret`,
        );
      }
      bytes += sizeOf(m[1] as string) - Buffer.byteLength(m[0], 'utf8');
    }
    if (bytes > limits.maxOutputBytes) {
      throw new TemplateError(
        `templates would render more than ${formatBytes(limits.maxOutputBytes)}, the limit per Secret`,
      );
    }
  }
}

function formatBytes(n: number): string {
  return n % (1024 * 1024) === 0 ? `${n / (1024 * 1024)} MiB` : `${n} bytes`;
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
