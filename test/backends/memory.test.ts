import { loadConfig } from '../../src/config/load.ts';
import { GuardedBackend } from '../../src/backends/guard.ts';
import { MemoryBackend } from '../../src/backends/memory.ts';
import { systemClock } from '../../src/kube/clock.ts';
import { countingMetrics, runBackendContract } from './contract.ts';

runBackendContract('memory', async () => {
  const config = await loadConfig(
    {
      text: `
backends:
  - name: mem
    type: memory
    allowedNamespaces: ["team-*"]
    allowedPaths: ["{namespace}/**"]
    allowedWritePaths: ["{namespace}/c*"]
`,
    },
    { env: {} },
  );
  const cfg = config.backends[0];
  if (cfg?.type !== 'memory') throw new Error('backend mem missing');
  // The registry's wrapping, with a small page so a find pages, and counted list requests.
  const adapter = new MemoryBackend({ name: cfg.name, pageSize: 2 });
  const metrics = countingMetrics();
  const backend = new GuardedBackend(adapter, cfg, { clock: systemClock, metrics });
  return {
    backend,
    ctx: { namespace: 'team-a' },
    path: (name) => `team-a/${name}`,
    readOnlyPath: (name) => `team-a/readonly-${name}`,
    keepsOldVersions: true,
    listing: {
      tag: async (path, tags) => adapter.setTags(path, tags),
      pageSize: 2,
      listRequests: () => metrics.count('list'),
      foreignPrefix: 'team-b/',
    },
  };
});
