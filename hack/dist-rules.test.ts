import assert from 'node:assert/strict';
import { binSource, distProblems, importedPackages, isTestSupportName } from './dist-rules.ts';

describe('dist rules', () => {
  it('knows test support by name', () => {
    for (const path of [
      'src/kube/testing.ts',
      'src/controllers/vaultcertificate/testing.ts',
      'src/kube/fake-clock.ts',
      'src/backends/testing/server.ts',
      'src/a.test.ts',
      'kube/testing.js',
      'a.test.js',
    ])
      assert.equal(isTestSupportName(path), true, path);
    for (const path of [
      'src/kube/clock.ts',
      'src/pki/keys.ts',
      'src/controllers/retesting.ts',
      'src/fakes.ts',
    ])
      assert.equal(isTestSupportName(path), false, path);
  });

  it('lists the packages a file imports, not relative or node: imports', () => {
    const js = [
      "import assert from 'node:assert/strict';",
      "import { x } from './x.js';",
      "import fc from 'fast-check';",
      "export { y } from '@scope/pkg/sub';",
      "const m = await import('mocha');",
      "import 'reflect-metadata';",
    ].join('\n');
    assert.deepEqual(importedPackages(js).sort(), ['@scope/pkg', 'fast-check', 'mocha', 'reflect-metadata']);
  });

  it("finds the source of package.json's bins", () => {
    assert.equal(binSource('dist/main.js'), 'src/main.ts');
    assert.equal(binSource('./dist/cli/kubectl-vaultsync.js'), 'src/cli/kubectl-vaultsync.ts');
    assert.equal(binSource('src/cli/kubectl-vaultsync.ts'), 'src/cli/kubectl-vaultsync.ts');
  });

  const clean = {
    emitted: ['src/main.ts', 'src/kube/clock.ts', 'src/api/openapi.ts'],
    reachedByProduct: new Set(['src/main.ts', 'src/kube/clock.ts', 'src/api/openapi.ts']),
    reachedByTests: new Set(['src/kube/clock.ts']),
    outputs: new Map([['dist/main.js', "import winston from 'winston';"]]),
    devDependencies: ['mocha', 'fast-check'],
  };

  it('passes a build of product files', () => {
    assert.deepEqual(distProblems(clean), []);
  });

  it('refuses emitted test support, files only tests import, and devDependency imports', () => {
    const problems = distProblems({
      ...clean,
      emitted: [...clean.emitted, 'src/kube/testing.ts', 'src/kube/helpers.ts', 'src/orphan.ts'],
      reachedByTests: new Set(['src/kube/testing.ts', 'src/kube/helpers.ts']),
      outputs: new Map([['dist/kube/helpers.js', "import fc from 'fast-check';"]]),
    });
    assert.equal(problems.length, 3, problems.join('\n'));
    assert.match(problems[0]!, /^src\/kube\/testing\.ts: test support is emitted/);
    assert.match(problems[1]!, /^src\/kube\/helpers\.ts: emitted, but only tests import it/);
    assert.match(problems[2]!, /^dist\/kube\/helpers\.js: imports the devDependency fast-check$/);
  });
});
