// Resources the apiserver must reject (test/admission/invalid/*.yaml) and the samples it must
// accept (config/samples/*.yaml). Each invalid file starts with `# expect: <substring>`: a part of
// the rejection message that tells the user what to fix.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';

const repoRoot = resolve(import.meta.dirname, '../..');
const invalidDir = join(import.meta.dirname, 'invalid');
const samplesDir = join(repoRoot, 'config/samples');

export interface InvalidCase {
  /** Path relative to the repository root, e.g. test/admission/invalid/vs-missing-backend.yaml. */
  file: string;
  /** Substring the apiserver's rejection message must contain. */
  expect: string;
  /** The resource (apiVersion, kind, metadata.name, spec; no namespace). */
  object: Record<string, unknown>;
}

const EXPECT = /^# expect: (.+)$/;

export function loadInvalidCases(dir = invalidDir): InvalidCase[] {
  return readdirSync(dir)
    .filter((name) => name.endsWith('.yaml'))
    .sort()
    .map((name) => {
      const path = join(dir, name);
      const text = readFileSync(path, 'utf8');
      const expect = EXPECT.exec(text.split('\n', 1)[0] ?? '')?.[1]?.trim();
      if (!expect)
        throw new Error(`${name}: the first line must be "# expect: <substring of the rejection>"`);
      const object = parse(text) as unknown;
      if (object === null || typeof object !== 'object' || Array.isArray(object)) {
        throw new Error(`${name}: expected one YAML object`);
      }
      return { file: relative(repoRoot, path), expect, object: object as Record<string, unknown> };
    });
}

export interface Sample {
  file: string;
  object: Record<string, unknown>;
}

/** Every vaultsync.io object in config/samples (kustomization.yaml excluded). */
export function loadSamples(dir = samplesDir): Sample[] {
  return readdirSync(dir)
    .filter((name) => name.endsWith('.yaml') && name !== 'kustomization.yaml')
    .sort()
    .flatMap((name) => {
      const path = join(dir, name);
      return parseAllDocuments(readFileSync(path, 'utf8'))
        .map((doc) => doc.toJS() as Record<string, unknown> | null)
        .filter((o): o is Record<string, unknown> => String(o?.apiVersion ?? '').startsWith('vaultsync.io/'))
        .map((object) => ({ file: relative(repoRoot, path), object }));
    });
}
