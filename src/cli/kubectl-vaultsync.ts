#!/usr/bin/env node
// kubectl vaultsync: the kubectl plugin (kubectl runs `kubectl-vaultsync` found on PATH).
// docs/kubectl-plugin.md lists the commands.
import { runCli } from './program.ts';

process.exitCode = await runCli(process.argv.slice(2), {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
});
