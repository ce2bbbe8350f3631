// make testbed-up: start the local test bed in .testbed/ and leave it running.
import { resolve } from 'node:path';
import { startTestbed, attachTestbed, envFile } from '../../test/support/testbed/index.ts';

const dir = resolve(process.env.VAULTSYNC_TESTBED_DIR ?? '.testbed');
const workloads = process.env.TESTBED_WORKLOADS !== 'false';
const bed =
  attachTestbed(dir) ?? (await startTestbed({ dir, workloads, log: (l) => console.log(`[testbed] ${l}`) }));
console.log(`\nTest bed running. To use it:\n\n  source ${envFile(dir)}\n`);
for (const [key, value] of Object.entries(bed.env)) console.log(`  ${key}=${value}`);
console.log('\nStop it with: make testbed-down');
