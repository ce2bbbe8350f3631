import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import YAML from 'yaml';
import { ROOT, generatedFiles, staleCrdFiles } from '../../../hack/generate-crds.ts';
import { KINDS, celTwin } from './common.ts';
import type { Kind } from './common.ts';
import { allCrds, buildCrd, crdFileName, rootSchema } from './crds.ts';
import type { StructuralSchema } from './structural.ts';

const FORBIDDEN_KEYS = [
  '$id',
  '$ref',
  '$schema',
  'anyOf',
  'oneOf',
  'allOf',
  'not',
  'const',
  'default',
  'patternProperties',
  'nullable',
];

interface Visit {
  node: StructuralSchema;
  path: string;
  /** Arrays and maps between the root and this node. */
  collections: StructuralSchema[];
  isProperty: boolean;
}

function visitAll(
  node: StructuralSchema,
  path = '',
  collections: StructuralSchema[] = [],
  isProperty = false,
): Visit[] {
  const out: Visit[] = [{ node, path, collections, isProperty }];
  for (const [name, child] of Object.entries(node.properties ?? {})) {
    out.push(...visitAll(child, path ? `${path}.${name}` : name, collections, true));
  }
  if (node.items) out.push(...visitAll(node.items, `${path}[]`, [...collections, node]));
  if (node.additionalProperties)
    out.push(...visitAll(node.additionalProperties, `${path}{}`, [...collections, node]));
  return out;
}

/** Resolves `self.a.b` references of a CEL rule against the schema node the rule sits on. */
function unresolvedFields(node: StructuralSchema, rule: string): string[] {
  const missing: string[] = [];
  for (const m of rule.matchAll(/\bself((?:\.[A-Za-z_][A-Za-z0-9_]*)+)(\(?)/g)) {
    const segments = m[1]!.slice(1).split('.');
    if (m[2] === '(') segments.pop(); // a method call such as self.matches(...)
    let current: StructuralSchema | undefined = node;
    for (const seg of segments) {
      current = current?.properties?.[seg];
      if (!current) {
        missing.push(`self.${segments.join('.')}`);
        break;
      }
    }
  }
  return missing;
}

describe('CRDs', () => {
  it('in crds/ and docs/ match what the source generates (run `make generate` if not)', async () => {
    const files = await generatedFiles();
    for (const file of files) {
      const onDisk = await readFile(join(ROOT, file.path), 'utf8').catch(() => undefined);
      assert.ok(onDisk !== undefined, `${file.path} is missing: run \`make generate\``);
      assert.ok(onDisk === file.content, `${file.path} differs from the source: run \`make generate\``);
    }
    assert.deepEqual(await staleCrdFiles(files), [], 'stale files in crds/: run `make generate`');
  });

  it('parse back from YAML to exactly the objects built', async () => {
    for (const kind of KINDS) {
      const text = await readFile(join(ROOT, crdFileName(kind)), 'utf8');
      assert.deepEqual(YAML.parse(text), JSON.parse(JSON.stringify(buildCrd(kind))));
    }
  });

  it('name the kinds, short names, categories and printer columns', () => {
    const byKind = Object.fromEntries(allCrds().map((c) => [c.spec.names.kind, c]));
    assert.deepEqual(Object.keys(byKind).sort(), ['SecretRotation', 'VaultCertificate', 'VaultSecret']);
    assert.deepEqual(byKind.VaultSecret!.spec.names.shortNames, ['vsecret']);
    assert.deepEqual(byKind.VaultCertificate!.spec.names.shortNames, ['vcert']);
    assert.deepEqual(byKind.SecretRotation!.spec.names.shortNames, ['srot']);
    for (const crd of allCrds()) {
      assert.equal(crd.metadata.name, `${crd.spec.names.plural}.vaultsync.io`);
      assert.deepEqual(crd.spec.names.categories, ['vaultsync']);
      const [version] = crd.spec.versions;
      assert.equal(version!.name, 'v1alpha1');
      assert.deepEqual(version!.subresources, { status: {} });
      const columns = version!.additionalPrinterColumns.map((c) => c.name);
      assert.deepEqual(columns.slice(0, 2), ['Ready', 'Reason']);
      assert.equal(columns.at(-1), 'Age');
    }
  });

  for (const kind of KINDS) {
    describe(`${kind} schema`, () => {
      const nodes = visitAll(rootSchema(kind as Kind));

      it('is structural: a type on every node, no forbidden keywords, maps without properties', () => {
        for (const { node, path } of nodes) {
          assert.ok(node.type, `${path || '<root>'} has no type`);
          for (const key of FORBIDDEN_KEYS) assert.ok(!(key in node), `${path} uses ${key}`);
          assert.ok(
            !(node.properties && node.additionalProperties),
            `${path}: properties and additionalProperties`,
          );
        }
      });

      it('describes every field', () => {
        for (const { node, path, isProperty } of nodes) {
          if (isProperty && path !== 'metadata') assert.ok(node.description, `${path} has no description`);
        }
      });

      it('keys list-type maps by required fields', () => {
        for (const { node, path } of nodes) {
          if (node['x-kubernetes-list-type'] !== 'map') continue;
          for (const key of node['x-kubernetes-list-map-keys'] ?? []) {
            assert.ok(node.items?.required?.includes(key), `${path}: map key ${key} must be required`);
          }
        }
      });

      it('bounds every string (but map values) and list of the spec, and every collection above a CEL rule', () => {
        for (const { node, path, collections } of nodes) {
          if (!path.startsWith('spec')) continue;
          // Map values (labels, annotations, templates) are bounded by the Secret itself and no rule reads them.
          if (node.type === 'string' && !path.endsWith('{}'))
            assert.ok(node.maxLength ?? node.enum, `${path}: string without maxLength`);
          if (node.type === 'array') assert.ok(node.maxItems, `${path}: array without maxItems`);
          if (node['x-kubernetes-validations']) {
            for (const c of collections) {
              assert.ok(c.maxItems ?? c.maxProperties, `${path}: a CEL rule under an unbounded list or map`);
            }
          }
        }
      });

      it('has a TypeScript twin for every CEL rule and refers only to fields that exist', () => {
        for (const { node, path } of nodes) {
          for (const r of node['x-kubernetes-validations'] ?? []) {
            assert.ok(celTwin(r.rule), `${path}: no twin for ${r.rule}`);
            assert.ok(r.message && !r.message.includes('\n'), `${path}: a rule needs a one-line message`);
            assert.ok(!r.rule.includes('\\'), `${path}: keep backslashes out of CEL (${r.rule})`);
            if (node.type === 'object')
              assert.deepEqual(unresolvedFields(node, r.rule), [], `${path}: ${r.rule}`);
            if (r.fieldPath) {
              assert.deepEqual(
                unresolvedFields(node, `self${r.fieldPath}`),
                [],
                `${path}: fieldPath ${r.fieldPath}`,
              );
            }
          }
        }
      });
    });
  }
});
