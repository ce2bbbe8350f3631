import { readFile } from 'node:fs/promises';
import { Sensitive } from '../secrets/sensitive.ts';

/** Reads a secret from a file, e.g. a mounted token; the caller decides when (files may rotate). */
export type SecretFileReader = (path: string) => Promise<Sensitive<string>>;

/**
 * The reader handed to backends for `tokenFile` / `secretIdFile`: trims one trailing newline.
 * Errors carry only the path and the errno code.
 */
export const readSecretFile: SecretFileReader = async (path) => {
  try {
    const text = await readFile(path, 'utf8');
    return new Sensitive(text.replace(/\r?\n$/, ''));
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    throw new Error(`cannot read ${path}: ${typeof code === 'string' ? code : 'read failed'}`);
  }
};
