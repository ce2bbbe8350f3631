// Mocha's spec reporter, plus one line of counts appended to $VAULTSYNC_TEST_SUMMARY so
// .ci/run can print a plain "N passed, N failed, N skipped" over every mocha run.
const { appendFileSync } = require('node:fs');
const Mocha = require('mocha');

class SummaryReporter extends Mocha.reporters.Spec {
  constructor(runner, options) {
    super(runner, options);
    runner.once('end', () => {
      const file = process.env.VAULTSYNC_TEST_SUMMARY;
      if (!file) return;
      const { passes, failures, pending } = runner.stats;
      appendFileSync(file, `${passes} ${failures} ${pending}\n`);
    });
  }
}

module.exports = SummaryReporter;
