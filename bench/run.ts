// make bench: every scenario of issue 15 on one bed in one run, each sandwiched baseline →
// vaultsync → baseline where a baseline exists, counted by the servers themselves (the
// apiserver's apiserver_request_total, OpenBao's audit device). Writes bench/out/summary.json,
// summary.md (printed too), history.jsonl and PNG plots. Knobs (environment):
//   BENCH_RESOURCES=10000 BENCH_PATHS=1000 BENCH_SCENARIOS=cold,restart,idle,propagation,reload,memory,api,certificates
//   BENCH_CONCURRENCY (default: tuned) BENCH_WORKERS=4 BENCH_REFRESH_SECONDS=60 BENCH_IDLE_SECONDS=180
//   BENCH_CHANGES=100 BENCH_CERTIFICATES=1000 BENCH_RSA=100 BENCH_API_RATE=200 BENCH_API_SECONDS=60
//   BENCH_API_BATCH_RATE (default BENCH_API_RATE)
//   BENCH_WORKLOADS=100 BENCH_RELOADS=50 BENCH_RELOAD_DEBOUNCE (default: the shipped 10 s)
//   BENCH_CPU_PROFILE=1 BENCH_OUT=bench/out
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { createKubeClient } from '../src/kube/index.ts';
import { installCrds } from '../test/support/crds.ts';
import { ensureNamespace } from '../test/support/operator.ts';
import { startTestbed } from '../test/support/testbed/index.ts';
import { baoApi } from '../test/support/testbed/openbao.ts';
import { certificatesScenario } from './certificates.ts';
import { tuneConcurrency } from './lib/baseline.ts';
import { ServerCounters } from './lib/counters.ts';
import { type Knobs, type ScenarioName, readKnobs } from './lib/knobs.ts';
import { BenchOperator } from './lib/operator.ts';
import { writePlots } from './lib/plots.ts';
import { writeProfileTop } from './lib/profile.ts';
import { writeSummary } from './lib/report.ts';
import { type ScenarioResult, type Series, loadNow } from './lib/result.ts';
import { type BenchContext, VS_BULK_NAMESPACE, VS_NAMESPACE, inParallel, valueAt } from './lib/workload.ts';
import { api } from './scenarios/api.ts';
import { coldSync } from './scenarios/cold.ts';
import { idle } from './scenarios/idle.ts';
import { memory } from './scenarios/memory.ts';
import { propagation } from './scenarios/propagation.ts';
import { reload } from './scenarios/reload.ts';
import { restart } from './scenarios/restart.ts';

const log = (line: string) => console.log(`[bench] ${line}`);

type Runner = (ctx: BenchContext, series: Series) => Promise<ScenarioResult>;
const RUNNERS: Record<Exclude<ScenarioName, 'certificates'>, Runner> = {
  cold: coldSync,
  restart,
  idle,
  propagation,
  reload,
  memory,
  api,
};

/** The bed's OpenBao paths (generation 0 values) and the namespaces, outside every timing. */
async function prepare(ctx: BenchContext, knobs: Knobs): Promise<void> {
  const namespaces = [
    VS_NAMESPACE,
    VS_BULK_NAMESPACE,
    'bench-baseline',
    'bench-baseline-1',
    'bench-baseline-2',
    'bench-tune',
    'bench-floor',
    'bench-unrelated',
  ];
  for (const ns of namespaces) await ensureNamespace(ctx.kc, ns);
  const paths = Array.from({ length: knobs.paths }, (_, p) => `p${p}`);
  await inParallel(paths, 16, (p) =>
    ctx.bao('POST', `secret/data/bench/${p}`, { data: { v: valueAt(p, 0) } }),
  );
}

async function main(): Promise<void> {
  const knobs = readKnobs();
  const loadStart = loadNow();
  const dir = mkdtempSync(join(tmpdir(), 'vaultsync-bench-'));
  const bed = await startTestbed({
    dir,
    workloads: false,
    aws: false,
    gcp: false,
    azure: false,
    openbaoAudit: true,
    log,
  });
  const operator = new BenchOperator(bed);
  const rows: ScenarioResult[] = [];
  const series: Series = { completions: {}, latenciesMs: {} };
  const failed: string[] = [];
  try {
    const kc = bed.kubeConfig();
    await installCrds(kc);
    const ctx: BenchContext = {
      bed,
      kc,
      client: createKubeClient(kc),
      bao: baoApi({ addr: bed.baoAddr, token: bed.baoToken }),
      counters: new ServerCounters(kc, bed.dir),
      operator,
      knobs,
      concurrency: 0,
      cpuProfileDir: knobs.cpuProfile ? join(knobs.outDir, 'profiles') : undefined,
      log,
    };
    await prepare(ctx, knobs);
    ctx.concurrency = knobs.concurrency ?? (await tuneConcurrency(ctx, 'bench-tune'));
    log(
      `${knobs.resources} resources over ${knobs.paths} paths; scenarios ${knobs.scenarios.join(', ')}; concurrency ${ctx.concurrency}`,
    );
    for (const name of knobs.scenarios) {
      log(`scenario ${name} (load ${loadNow().join(' ')})`);
      try {
        if (name === 'certificates') {
          await operator.stop();
          rows.push(await certificatesScenario(ctx, series));
        } else rows.push(await RUNNERS[name](ctx, series));
      } catch (err) {
        // The rows so far are kept; a scenario that needs the failed one's state may fail too.
        failed.push(name);
        console.error(`[bench] scenario ${name} failed:`, err);
      }
      writeSummary(knobs.outDir, rows, { partial: true });
    }
  } finally {
    await operator.stop();
    await bed.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  const run = {
    at: new Date().toISOString(),
    cpus: cpus().length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    loadStart,
    loadEnd: loadNow(),
    concurrency: knobs.concurrency ?? 'tuned',
    workers: knobs.workers,
  };
  console.log(`\n${writeSummary(knobs.outDir, rows, { ...run, failed }, true)}\n`);
  const plots = await writePlots(knobs.outDir, series);
  log(`wrote ${knobs.outDir}/summary.json, summary.md, ${plots.join(', ')}`);
  if (knobs.cpuProfile) log(`profile: ${writeProfileTop(join(knobs.outDir, 'profiles'))}`);
  if (failed.length > 0) throw new Error(`scenarios failed: ${failed.join(', ')}`);
}

await main();
