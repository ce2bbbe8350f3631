import { loadConfig } from '../../src/config/load.ts';
import { createBackends } from '../../src/backends/registry.ts';
import { runBackendContract } from './contract.ts';

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
  const registry = createBackends(config);
  const backend = registry.get('mem');
  if (!backend) throw new Error('backend mem missing');
  return {
    backend,
    ctx: { namespace: 'team-a' },
    path: (name) => `team-a/${name}`,
    readOnlyPath: (name) => `team-a/readonly-${name}`,
    keepsOldVersions: true,
  };
});
