// Writes the operator-config parts of charts/vaultsync/values.schema.json (config, api, audit,
// webhooks) from src/config/schema.ts, keeping the hand-written rest. Run: node
// hack/generate-chart-schema.ts (make generate). src/config/chart-schema.test.ts fails when the
// checked-in file differs from this output.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as prettier from 'prettier';
import { chartValuesSchema } from '../src/config/chart-schema.ts';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const CHART_SCHEMA_PATH = 'charts/vaultsync/values.schema.json';

/** values.schema.json as the generator writes it, from the file as it is now. */
export async function generatedChartSchema(current: string): Promise<string> {
  const file = join(ROOT, CHART_SCHEMA_PATH);
  const options = (await prettier.resolveConfig(file)) ?? {};
  const schema = chartValuesSchema(JSON.parse(current) as Record<string, unknown>);
  return prettier.format(JSON.stringify(schema), { ...options, parser: 'json' });
}

async function main(): Promise<void> {
  const file = join(ROOT, CHART_SCHEMA_PATH);
  await writeFile(file, await generatedChartSchema(await readFile(file, 'utf8')));
  console.log(`wrote ${CHART_SCHEMA_PATH}`);
}

if (import.meta.main) await main();
