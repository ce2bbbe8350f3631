// Writes the files generated from src/apis/v1alpha1: crds/vaultsync.io_<plural>.yaml and
// docs/crd-reference.md. Run: node hack/generate-crds.ts (npm run generate / make generate).
// src/apis/v1alpha1/crds.test.ts fails when the checked-in files differ from this output.
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as prettier from 'prettier';
import { crdFiles } from '../src/apis/v1alpha1/crds.ts';
import type { GeneratedFile } from '../src/apis/v1alpha1/crds.ts';
import { renderReference } from '../src/apis/v1alpha1/reference.ts';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const REFERENCE_PATH = 'docs/crd-reference.md';

/** Everything the generator writes, with content exactly as written. */
export async function generatedFiles(): Promise<GeneratedFile[]> {
  const options = (await prettier.resolveConfig(join(ROOT, REFERENCE_PATH))) ?? {};
  const reference = await prettier.format(renderReference(), { ...options, parser: 'markdown' });
  return [...crdFiles(), { path: REFERENCE_PATH, content: reference }];
}

/** Generated CRD files in crds/ that the source no longer produces. */
export async function staleCrdFiles(files: GeneratedFile[]): Promise<string[]> {
  const wanted = new Set(files.map((f) => f.path));
  const present = await readdir(join(ROOT, 'crds')).catch(() => [] as string[]);
  return present
    .filter((name) => name.startsWith('vaultsync.io_') && name.endsWith('.yaml'))
    .map((name) => `crds/${name}`)
    .filter((path) => !wanted.has(path));
}

async function main(): Promise<void> {
  const files = await generatedFiles();
  for (const file of files) {
    const target = join(ROOT, file.path);
    await mkdir(dirname(target), { recursive: true });
    await writeFile(target, file.content);
    console.log(`wrote ${file.path}`);
  }
  for (const path of await staleCrdFiles(files)) {
    await rm(join(ROOT, path));
    console.log(`removed ${path}`);
  }
}

if (import.meta.main) await main();
