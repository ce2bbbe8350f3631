// The command line of `kubectl vaultsync` (commander, with extra-typings so every option is
// typed where it is read). Each action connects as the user, runs one command module and
// prints its result; runCli returns the exit code: 0 done, 1 failed, 2 a usage mistake.
import { Command, CommanderError, Option } from '@commander-js/extra-typings';
import { isDuration, parseDuration } from '../apis/v1alpha1/index.ts';
import { KubeError } from '../kube/errors.ts';
import { VERSION } from '../version.ts';
import { type Cluster, type ConnectOptions, connect } from './cluster.ts';
import { certificateReport, formatCertificateReport } from './inspect.ts';
import { UsageError, parseKindAndName } from './kinds.ts';
import { OUTPUT_FORMATS, outputFormat } from './output.ts';
import { collectStatus, formatStatus } from './status.ts';
import { TRIGGERS, formatTrigger, runTrigger } from './trigger.ts';
import { explain, formatExplanation } from './why.ts';

export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** Tests replace the connection; default: the user's kubeconfig. */
  connect?: (opts: ConnectOptions) => Cluster;
  now?: () => number;
  /** Poll interval of --wait (ms). */
  pollMs?: number;
}

function waitMs(wait: boolean | undefined, timeout: string): number {
  if (!wait) return 0;
  if (!isDuration(timeout))
    throw new UsageError(`--timeout must be a duration such as 30s or 2m, got "${timeout}"`);
  return parseDuration(timeout);
}

/** The exit code a finished action sets. */
class Exit extends Error {
  readonly code: number;
  constructor(code: number) {
    super(`exit ${code}`);
    this.code = code;
  }
}

function buildProgram(io: CliIo) {
  const now = io.now ?? Date.now;
  const program = new Command('kubectl vaultsync')
    .usage('[options] <command>')
    .description('Status, triggers and explanations for vaultsync resources, as the current kubeconfig user.')
    .version(VERSION)
    .option('--kubeconfig <file>', 'kubeconfig file (default: $KUBECONFIG or ~/.kube/config)')
    .option('--context <name>', 'kubeconfig context (default: the current one)')
    .option('-n, --namespace <namespace>', "namespace (default: the context's, else default)")
    .addOption(new Option('-o, --output <format>', 'json or yaml instead of text').choices(OUTPUT_FORMATS))
    .showHelpAfterError('(kubectl vaultsync --help lists the commands)')
    .configureHelp({ showGlobalOptions: true })
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr });

  const session = (cmd: { optsWithGlobals(): ConnectOptions & { output?: string } }) => {
    const opts = cmd.optsWithGlobals();
    const cluster = (io.connect ?? connect)(opts);
    return { cluster, format: outputFormat(opts.output) };
  };

  program
    .command('status')
    .description('Ready, reason, last sync and next refresh, renewal or rotation of every resource')
    .option('-A, --all-namespaces', 'every namespace the user may list')
    .action(async (opts, cmd) => {
      const { cluster, format } = session(cmd);
      const namespace = opts.allNamespaces ? undefined : cluster.namespace;
      io.stdout(formatStatus(await collectStatus(cluster, namespace, now()), format, now(), !namespace));
    });

  for (const trigger of Object.values(TRIGGERS)) {
    program
      .command(`${trigger.verb} <name>`)
      .description(`ask for ${trigger.what} of ${trigger.kind} <name> now (annotation ${trigger.annotation})`)
      .option('--wait', 'wait until the operator answers')
      .option('--timeout <duration>', 'how long --wait waits', '60s')
      .action(async (name, opts, cmd) => {
        const { cluster, format } = session(cmd);
        const result = await runTrigger(cluster, trigger, {
          namespace: cluster.namespace,
          name,
          waitMs: waitMs(opts.wait, opts.timeout),
          now,
          ...(io.pollMs !== undefined && { pollMs: io.pollMs }),
        });
        io.stdout(formatTrigger(trigger, result, format, opts.wait === true));
        if (result.state === 'Failed' || (opts.wait && result.state === 'Pending')) throw new Exit(1);
      });
  }

  program
    .command('why <resource>')
    .description(
      'explain the last failure of <kind>/<name>: reason, refusal, backend error, next retry, events',
    )
    .action(async (resource, _opts, cmd) => {
      const { cluster, format } = session(cmd);
      const { kind, name } = parseKindAndName(resource);
      const obj = await cluster.get(kind, cluster.namespace, name);
      if (!obj) throw new NotFound(`${kind} "${name}" not found in namespace "${cluster.namespace}"`);
      const events = await cluster.events(kind, cluster.namespace, name);
      io.stdout(formatExplanation(explain(obj, events, now()), format, now()));
    });

  program
    .command('inspect')
    .description('look inside what a resource produced')
    .command('certificate <name>')
    .description("chain, names, expiry and issuer of a VaultCertificate's TLS Secret (never the key)")
    .action(async (name, _opts, cmd) => {
      const { cluster, format } = session(cmd);
      const vc = await cluster.get('VaultCertificate', cluster.namespace, name);
      const secretName = vc?.kind === 'VaultCertificate' ? vc.spec.secretName : name;
      const secret = await cluster.secret(cluster.namespace, secretName);
      if (!secret) {
        throw new NotFound(
          vc
            ? `Secret "${secretName}" of VaultCertificate "${name}" not found (not issued yet?)`
            : `no VaultCertificate or Secret "${name}" in namespace "${cluster.namespace}"`,
        );
      }
      const report = certificateReport(secret, vc?.kind === 'VaultCertificate' ? vc : undefined);
      io.stdout(formatCertificateReport(report, format, now()));
    });

  return program;
}

class NotFound extends Error {}

/** Runs the plugin; never throws. */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  try {
    await buildProgram(io).parseAsync([...argv], { from: 'user' });
    return 0;
  } catch (err) {
    if (err instanceof Exit) return err.code;
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
    if (err instanceof UsageError) {
      io.stderr(`error: ${err.message}\n`);
      return 2;
    }
    io.stderr(`error: ${errorMessage(err)}\n`);
    return 1;
  }
}

function errorMessage(err: unknown): string {
  if (err instanceof NotFound) return err.message;
  if (err instanceof KubeError) {
    if (err.status === 403) return `forbidden: ${err.message}`;
    return err.message;
  }
  return err instanceof Error ? err.message : String(err);
}
