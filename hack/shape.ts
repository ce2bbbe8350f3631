// Prints the longest function bodies and files in src/ (issue 16's limits: no function over
// ~120 lines, no file over ~500 lines except declarations). Exit 1 when a limit is passed and
// `--check` is given. Usage: node hack/shape.ts [--check] [--top N]
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';

const FUNCTION_LIMIT = 120;
const FILE_LIMIT = 500;
/** Declarations (schemas, CRD types, config schema): exempt from the file limit. */
const DECLARATIONS = [/^src\/apis\/v1alpha1\/[^/]+\.ts$/, /^src\/config\/(schema|chart-schema)\.ts$/];

const root = join(import.meta.dirname, '..');
const args = process.argv.slice(2);
const check = args.includes('--check');
const top = Number(args[args.indexOf('--top') + 1]) || 15;

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sources(path);
    return name.endsWith('.ts') && !name.endsWith('.test.ts') && !name.endsWith('.d.ts') ? [path] : [];
  });
}

interface Span {
  where: string;
  lines: number;
}

function functionsOf(file: string, text: string): Span[] {
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const spans: Span[] = [];
  const lineOf = (pos: number) => sf.getLineAndCharacterOfPosition(pos).line + 1;
  const visit = (node: ts.Node) => {
    if (ts.isFunctionLike(node) && 'body' in node && node.body && ts.isBlock(node.body as ts.Node)) {
      const body = node.body as ts.Block;
      const start = lineOf(body.getStart(sf));
      const lines = lineOf(body.getEnd()) - start + 1;
      const name = (node as { name?: ts.Node }).name?.getText(sf) ?? '(anonymous)';
      spans.push({ where: `${relative(root, file)}:${start} ${name}`, lines });
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return spans;
}

const files = sources(join(root, 'src'));
const fileSpans: Span[] = [];
const functionSpans: Span[] = [];
for (const file of files) {
  const text = readFileSync(file, 'utf8');
  const rel = relative(root, file);
  fileSpans.push({ where: rel, lines: text.split('\n').length - 1 });
  functionSpans.push(...functionsOf(file, text));
}
const byLines = (a: Span, b: Span) => b.lines - a.lines;
const exempt = (s: Span) => DECLARATIONS.some((re) => re.test(s.where));

console.log(`Longest function bodies (limit ${FUNCTION_LIMIT} lines):`);
for (const s of functionSpans.sort(byLines).slice(0, top))
  console.log(`  ${String(s.lines).padStart(5)}  ${s.where}`);
console.log(`Longest files (limit ${FILE_LIMIT} lines; declarations exempt):`);
for (const s of fileSpans.sort(byLines).slice(0, top))
  console.log(`  ${String(s.lines).padStart(5)}  ${s.where}${exempt(s) ? '  (declarations)' : ''}`);

const over = [
  ...functionSpans.filter((s) => s.lines > FUNCTION_LIMIT),
  ...fileSpans.filter((s) => s.lines > FILE_LIMIT && !exempt(s)),
];
if (over.length > 0) console.log(`${over.length} over the limits`);
if (check && over.length > 0) process.exit(1);
