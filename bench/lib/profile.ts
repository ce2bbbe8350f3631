// The top functions by self time of the operator's V8 CPU profiles (BENCH_CPU_PROFILE=1: node
// --cpu-prof writes one .cpuprofile per run on exit), written as a Markdown table beside them.
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';

interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number } }[];
  samples: number[];
  timeDeltas: number[];
}

export interface HotFunction {
  name: string;
  where: string;
  selfMs: number;
  share: number;
}

/** Self time per function (samples × their time deltas), the `top` largest first. */
export function topFunctions(profile: CpuProfile, top = 10, root = process.cwd()): HotFunction[] {
  const frameOf = new Map(profile.nodes.map((n) => [n.id, n.callFrame]));
  const self = new Map<string, { name: string; where: string; us: number }>();
  let total = 0;
  profile.samples.forEach((id, i) => {
    const us = profile.timeDeltas[i] ?? 0;
    total += us;
    const f = frameOf.get(id);
    if (!f) return;
    const where = f.url ? `${relative(root, f.url.replace(/^file:\/\//, ''))}:${f.lineNumber + 1}` : '';
    const key = `${f.functionName}@${where}`;
    const entry = self.get(key) ?? { name: f.functionName || '(anonymous)', where, us: 0 };
    entry.us += us;
    self.set(key, entry);
  });
  return [...self.values()]
    .sort((a, b) => b.us - a.us)
    .slice(0, top)
    .map((e) => ({
      name: e.name,
      where: e.where,
      selfMs: Math.round(e.us / 1000),
      share: total ? e.us / total : 0,
    }));
}

/** Writes `top.md` in `dir` (one table per profile); returns its path. */
export function writeProfileTop(dir: string): string {
  if (!existsSync(dir)) return 'no profiles';
  const parts: string[] = [];
  for (const file of readdirSync(dir)
    .filter((f) => f.endsWith('.cpuprofile'))
    .sort()) {
    const hot = topFunctions(JSON.parse(readFileSync(join(dir, file), 'utf8')) as CpuProfile);
    parts.push(`### ${file}\n\n| self ms | share | function | where |\n| --- | --- | --- | --- |`);
    for (const h of hot)
      parts.push(`| ${h.selfMs} | ${(h.share * 100).toFixed(1)} % | ${h.name} | ${h.where} |`);
    parts.push('');
  }
  const out = join(dir, 'top.md');
  writeFileSync(out, parts.join('\n'));
  return out;
}
