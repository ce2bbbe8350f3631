// The bench's knobs, read from the environment (make bench passes them through). Every default
// is the size except the idle window: ten minutes at refresh 1 m is longer than most runs
// can spare, so the window is a knob and the summary reports reads per refresh. The api
// scenario's rate and length (BENCH_API_RATE=200, BENCH_API_SECONDS=60) are the issue's; its
// batchGet phase may run at another rate (BENCH_API_BATCH_RATE, default BENCH_API_RATE).

export const SCENARIOS = [
  'cold',
  'restart',
  'idle',
  'propagation',
  'reload',
  'memory',
  'api',
  'certificates',
] as const;
export type ScenarioName = (typeof SCENARIOS)[number];

/** Scenarios that reuse the VaultSecrets the cold sync created (so cold runs before any of them). */
export const NEEDS_COLD: readonly ScenarioName[] = ['restart', 'idle', 'propagation', 'reload', 'memory'];

export interface Knobs {
  resources: number;
  paths: number;
  scenarios: ScenarioName[];
  /** Concurrency of the baseline and of the harness's creates; undefined: tuned at start. */
  concurrency: number | undefined;
  /** The operator's worker count (its config `operator.workers`; default the shipped 4). */
  workers: number;
  refreshSeconds: number;
  idleSeconds: number;
  /** Backend changes timed one after another in the propagation scenario. */
  changes: number;
  /** Reload: Deployments opted in to one bench Secret each, and Secret changes timed one after another. */
  workloads: number;
  reloads: number;
  /** Reload: the Deployments' `vaultsync.io/reload-debounce` in seconds; undefined: the shipped default. */
  reloadDebounceSeconds: number | undefined;
  certificates: number;
  rsa: number;
  /** The api scenario's arrival rate (requests per second) and each run's length. */
  apiRate: number;
  apiSeconds: number;
  /** The rate of its batchGet phase (100 paths a request; default: apiRate). */
  apiBatchRate: number;
  /** Writes a V8 CPU profile of the operator per run, and its top functions. */
  cpuProfile: boolean;
  outDir: string;
}

function positive(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name}=${raw}: want a whole number ≥ 0`);
  return n;
}

/** The scenarios asked for, in the bench's order, cold added first when another needs it. */
export function pickScenarios(raw: string | undefined): ScenarioName[] {
  const asked = (raw ?? '').split(/[\s,]+/).filter((s) => s !== '');
  if (asked.length === 0) return [...SCENARIOS];
  for (const s of asked) {
    if (!(SCENARIOS as readonly string[]).includes(s))
      throw new Error(`BENCH_SCENARIOS: unknown scenario ${s}; known: ${SCENARIOS.join(', ')}`);
  }
  const wanted = new Set(asked);
  if (asked.some((s) => (NEEDS_COLD as readonly string[]).includes(s))) wanted.add('cold');
  return SCENARIOS.filter((s) => wanted.has(s));
}

export function readKnobs(env: NodeJS.ProcessEnv = process.env): Knobs {
  const resources = positive(env, 'BENCH_RESOURCES', 10_000);
  const paths = positive(env, 'BENCH_PATHS', Math.min(1000, resources));
  if (resources < 10 || paths < 1 || paths > resources)
    throw new Error(
      `BENCH_RESOURCES=${resources} BENCH_PATHS=${paths}: want ≥ 10 resources and 1..resources paths`,
    );
  const concurrency = env.BENCH_CONCURRENCY ? positive(env, 'BENCH_CONCURRENCY', 16) : undefined;
  return {
    resources,
    paths,
    scenarios: pickScenarios(env.BENCH_SCENARIOS),
    concurrency,
    workers: positive(env, 'BENCH_WORKERS', 4),
    refreshSeconds: positive(env, 'BENCH_REFRESH_SECONDS', 60),
    idleSeconds: positive(env, 'BENCH_IDLE_SECONDS', 180),
    changes: positive(env, 'BENCH_CHANGES', 100),
    workloads: positive(env, 'BENCH_WORKLOADS', 100),
    reloads: positive(env, 'BENCH_RELOADS', 50),
    reloadDebounceSeconds: env.BENCH_RELOAD_DEBOUNCE ? positive(env, 'BENCH_RELOAD_DEBOUNCE', 10) : undefined,
    certificates: positive(env, 'BENCH_CERTIFICATES', 1000),
    rsa: positive(env, 'BENCH_RSA', 100),
    apiRate: positive(env, 'BENCH_API_RATE', 200),
    apiSeconds: positive(env, 'BENCH_API_SECONDS', 60),
    apiBatchRate: positive(env, 'BENCH_API_BATCH_RATE', positive(env, 'BENCH_API_RATE', 200)),
    cpuProfile: env.BENCH_CPU_PROFILE === '1',
    outDir: env.BENCH_OUT ?? 'bench/out',
  };
}
