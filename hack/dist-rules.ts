// What may not end up in dist/ (the image and the package ship dist/ only): the decisions of
// hack/check-dist.ts, pure, so they are unit-tested (hack/dist-rules.test.ts).

/**
 * Test support by name: unit tests, and the fakes and fixtures they share. tsconfig.build.json
 * leaves these out; a production import of one would pull it back into the build, so the check
 * looks at what the build really emits.
 */
const TEST_SUPPORT = [
  /\.test\.[cm]?[jt]s$/,
  /(^|\/)testing\.[cm]?[jt]s$/,
  /(^|\/)fake-[^/]+$/,
  /(^|\/)testing\//,
];

export function isTestSupportName(path: string): boolean {
  return TEST_SUPPORT.some((re) => re.test(path));
}

/** Packages imported (statically or dynamically) by an emitted JavaScript file. */
export function importedPackages(js: string): string[] {
  const out = new Set<string>();
  for (const m of js.matchAll(/(?:\bfrom\s*|\bimport\s*\(?\s*)['"]([^'"./][^'"]*)['"]/g)) {
    const spec = m[1]!;
    if (spec.startsWith('node:')) continue;
    const parts = spec.split('/');
    out.add(spec.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!);
  }
  return [...out];
}

/** The source of a package.json bin: `dist/main.js` is built from `src/main.ts`; a `.ts` bin is its own. */
export function binSource(bin: string): string {
  const path = bin.replace(/^\.\//, '');
  return path.startsWith('dist/') ? path.replace(/^dist\//, 'src/').replace(/\.js$/, '.ts') : path;
}

export interface DistFacts {
  /** Source files the build emits (paths relative to the repository). */
  emitted: readonly string[];
  /** Source files reached from the operator's entry points or the repository's tools. */
  reachedByProduct: ReadonlySet<string>;
  /** Source files reached from the tests. */
  reachedByTests: ReadonlySet<string>;
  /** JavaScript the build emits, by output path. */
  outputs: ReadonlyMap<string, string>;
  /** devDependencies of package.json: absent from the image, so never imported by dist/. */
  devDependencies: readonly string[];
}

/** Why the build output is not fit to ship; empty when it is. */
export function distProblems(facts: DistFacts): string[] {
  const problems: string[] = [];
  for (const file of facts.emitted) {
    if (isTestSupportName(file))
      problems.push(`${file}: test support is emitted (a production file imports it?)`);
    else if (!facts.reachedByProduct.has(file) && facts.reachedByTests.has(file))
      problems.push(
        `${file}: emitted, but only tests import it (name it testing.ts / fake-*.ts, or move it)`,
      );
  }
  const dev = new Set(facts.devDependencies);
  for (const [out, js] of facts.outputs) {
    for (const pkg of importedPackages(js)) {
      if (dev.has(pkg)) problems.push(`${out}: imports the devDependency ${pkg}`);
    }
  }
  return problems;
}
