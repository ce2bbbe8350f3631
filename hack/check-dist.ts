// Fails when the build (tsconfig.build.json → dist/, all that the image and the package ship)
// would carry test support: unit tests, their fakes and fixtures, a file only tests import, or an
// import of a devDependency. It emits the build in memory without type-checking (typecheck does
// that), so it takes seconds. Usage: node hack/check-dist.ts (make check-dist; make test runs it).
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';
import { binSource, distProblems } from './dist-rules.ts';

const root = join(import.meta.dirname, '..');
/** Started by URL rather than imported (src/pki/rsa-pool.ts), besides package.json's bins. */
const WORKERS = ['src/pki/rsa-worker.ts'];
/** The repository's own tools also use src/ modules (CRD and schema generators, the bench). */
const TOOL_DIRS = ['hack', 'bench'];
const TEST_DIRS = ['test', 'e2e'];

function tsFiles(dir: string, keep: (path: string) => boolean): string[] {
  let names: string[];
  try {
    names = readdirSync(join(root, dir));
  } catch {
    return [];
  }
  return names.flatMap((name) => {
    const path = `${dir}/${name}`;
    if (name === 'node_modules' || name.startsWith('.')) return [];
    if (statSync(join(root, path)).isDirectory()) return tsFiles(path, keep);
    return name.endsWith('.ts') && !name.endsWith('.d.ts') && keep(path) ? [path] : [];
  });
}

const isTest = (path: string) => path.endsWith('.test.ts');
const config = ts.getParsedCommandLineOfConfigFile(
  join(root, 'tsconfig.build.json'),
  {},
  {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (d) => {
      throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n'));
    },
  },
);
if (!config) throw new Error('tsconfig.build.json cannot be read');
const options: ts.CompilerOptions = { ...config.options, noCheck: true };
const host = ts.createCompilerHost(options);
const rel = (file: string) => relative(root, file);

const build = ts.createProgram({ rootNames: config.fileNames, options, host });
const outputs = new Map<string, string>();
build.emit(undefined, (file, text) => {
  if (file.endsWith('.js')) outputs.set(rel(file), text);
});

/** src/ files a program rooted at `roots` loads (reusing the build's parsed files). */
function reached(roots: string[]): Set<string> {
  const program = ts.createProgram({
    rootNames: roots.map((r) => join(root, r)),
    options,
    host,
    oldProgram: build,
  });
  return new Set(
    program
      .getSourceFiles()
      .map((sf) => rel(sf.fileName))
      .filter((f) => f.startsWith('src/')),
  );
}

const emitted = build
  .getSourceFiles()
  .filter((sf) => !sf.isDeclarationFile && !build.isSourceFileFromExternalLibrary(sf))
  .map((sf) => rel(sf.fileName))
  .filter((f) => f.startsWith('src/'));
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  bin?: Record<string, string>;
  devDependencies?: Record<string, string>;
};

const problems = distProblems({
  emitted,
  outputs,
  reachedByProduct: reached([
    ...Object.values(pkg.bin ?? {}).map(binSource),
    ...WORKERS,
    ...TOOL_DIRS.flatMap((d) => tsFiles(d, (p) => !isTest(p))),
  ]),
  reachedByTests: reached([...tsFiles('src', isTest), ...TEST_DIRS.flatMap((d) => tsFiles(d, () => true))]),
  devDependencies: Object.keys(pkg.devDependencies ?? {}),
});
if (problems.length > 0) {
  console.error(`dist/ would ship test support:\n  ${problems.join('\n  ')}`);
  process.exit(1);
}
console.log(`dist/ OK: ${outputs.size} files, no test support`);
