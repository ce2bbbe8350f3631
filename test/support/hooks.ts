// Mocha root hooks for the integration suites: tear down the shared test bed at the end.
import { stopOwnedTestbed } from './testbed.ts';

export const mochaHooks = {
  async afterAll(this: Mocha.Context) {
    this.timeout(30_000);
    await stopOwnedTestbed();
  },
};
