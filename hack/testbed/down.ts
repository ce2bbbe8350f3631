// make testbed-down: stop the bed that make testbed-up started.
import { resolve } from 'node:path';
import { stopTestbedIn } from '../../test/support/testbed/index.ts';

const dir = resolve(process.env.VAULTSYNC_TESTBED_DIR ?? '.testbed');
console.log((await stopTestbedIn(dir)) ? `Stopped the test bed in ${dir}` : `No test bed running in ${dir}`);
