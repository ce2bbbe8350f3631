// `kubectl vaultsync why <kind>/<name>`: why a resource is not Ready, from what the operator
// records where its users can read it — the Ready (and Issuing) condition, the status, the
// Events — and, for a refusal, who refused: the backend's tenancy rule in the operator config
// (quoted in the message, see backends/tenancy.ts), the backend's own policy for the operator's
// credentials, or the Kubernetes apiserver. Pure; the command fetches, this explains.
import {
  BackendReason,
  CommonReason,
  type Condition,
  type VaultSyncResource,
} from '../apis/v1alpha1/index.ts';
import { USER_ERROR_RETRY_MS } from '../controllers/failure/failure.ts';
import { issuanceBackoff } from '../controllers/vaultcertificate/renewal.ts';
import { type ClusterEvent, eventTime } from './cluster.ts';
import { type OutputFormat, formatColumns, formatDocument, formatTable, relativeTime } from './output.ts';
import { readyCondition } from './status.ts';

export interface Refusal {
  /** tenancy: vaultsync's rules for the namespace; backend: the backend's policy for vaultsync; kubernetes: the apiserver. */
  by: 'tenancy' | 'backend' | 'kubernetes';
  /** The backend named in the message, when it names one. */
  backend?: string;
  /** The rule quoted in the message, e.g. `allowedPaths: {namespace}/**; for this namespace: team-a/**`. */
  rule?: string;
  explanation: string;
}

export interface Explanation {
  kind: string;
  namespace: string;
  name: string;
  /** False when there is a failure to explain. */
  healthy: boolean;
  ready: { status: string; reason?: string; message?: string; since?: string };
  /** The failure's reason and message (the Ready condition's, or the latest Warning's). */
  failure?: { reason: string; message: string };
  refusedBy?: Refusal;
  nextRetry?: { at?: string; text: string };
  /** The newest status.history entry: when the synced data (or the rotated version) last changed. */
  lastChange?: { time: string; what: string };
  events: { time?: string; type: string; reason: string; message: string; count: number }[];
}

/** Reasons retried with backoff (1 s to 30 s, Retry-After honoured); others wait for a fix. */
const TRANSIENT_REASONS: ReadonlySet<string> = new Set([
  BackendReason.BackendUnavailable,
  BackendReason.BackendThrottled,
]);

const RULE_RE = /\((allowedNamespaces|allowedPaths|allowedWritePaths|allowed[A-Za-z]+): ([^()]*)\)/;
const BACKEND_RE = /(?:backend|issuer) "([^"]+)"/;

/** Who refused, when the reason is a refusal. */
export function refusalOf(reason: string, message: string): Refusal | undefined {
  const backend = BACKEND_RE.exec(message)?.[1];
  const named = backend === undefined ? {} : { backend };
  if (reason === BackendReason.TenancyDenied) {
    const rule = RULE_RE.exec(message);
    return {
      by: 'tenancy',
      ...named,
      ...(rule && { rule: `${rule[1]}: ${rule[2]}` }),
      explanation:
        'vaultsync refused before asking the backend: the tenancy rules of the backend in the operator ' +
        'configuration do not let this namespace use this path. A cluster administrator changes them ' +
        '(backends[].allowedNamespaces, allowedPaths, allowedWritePaths); the resource cannot.',
    };
  }
  if (reason === BackendReason.PermissionDenied || reason === BackendReason.AuthenticationFailed) {
    return {
      by: 'backend',
      ...named,
      explanation:
        reason === BackendReason.PermissionDenied
          ? "vaultsync's tenancy rules allowed the request, but the backend refused vaultsync's own credentials " +
            '(its Vault policy, cloud IAM role or, for the kubernetes backend, its ServiceAccount RBAC) for this path.'
          : "the backend did not accept vaultsync's credentials (expired or wrong token, role or key).",
    };
  }
  if (reason === CommonReason.SecretWriteFailed && /forbidden|denied|admission/i.test(message)) {
    return {
      by: 'kubernetes',
      explanation:
        "the Kubernetes apiserver refused vaultsync's write of the Secret or status: RBAC of the operator's " +
        'ServiceAccount or an admission policy (the message names it).',
    };
  }
  return undefined;
}

/** When the operator tries again, as far as the cluster shows it. */
export function nextRetry(obj: VaultSyncResource, reason: string, since: number | undefined, now: number) {
  if (obj.kind === 'VaultCertificate' && obj.status?.lastFailureTime && obj.status.failedIssuanceAttempts) {
    const seed = obj.metadata.uid ?? `${obj.metadata.namespace}/${obj.metadata.name}`;
    const at =
      Date.parse(obj.status.lastFailureTime) + issuanceBackoff(obj.status.failedIssuanceAttempts, seed);
    return {
      at: new Date(at).toISOString(),
      text: `attempt ${obj.status.failedIssuanceAttempts + 1}, after a back-off of 5s doubling to 30m`,
    };
  }
  if (TRANSIENT_REASONS.has(reason)) return { text: 'within 30s: retried with a back-off of 1s to 30s' };
  const hint = 'retried every 5m, and at once when the spec or the trigger annotation changes';
  if (since === undefined) return { text: hint };
  const periods = Math.max(1, Math.ceil((now - since) / USER_ERROR_RETRY_MS));
  return { at: new Date(since + periods * USER_ERROR_RETRY_MS).toISOString(), text: hint };
}

/** The failure to explain, if any: Ready=False, or a certificate whose renewal keeps failing. */
function failureOf(obj: VaultSyncResource, ready: Condition | undefined, events: Explanation['events']) {
  if (ready?.status === 'False') return { reason: ready.reason, message: ready.message };
  const failingCert = obj.kind === 'VaultCertificate' && (obj.status?.failedIssuanceAttempts ?? 0) > 0;
  const failedRotation = obj.kind === 'SecretRotation' && obj.status?.phase === 'Failed';
  const warning = events.findLast((e) => e.type === 'Warning');
  if ((failingCert || failedRotation) && warning) return { reason: warning.reason, message: warning.message };
  return undefined;
}

/** The newest status.history entry in words: versions and outcomes, never a value. */
export function lastChange(obj: VaultSyncResource): Explanation['lastChange'] {
  if (obj.kind === 'VaultSecret') {
    const h = obj.status?.history?.[0];
    if (!h) return undefined;
    const versions = Object.entries(h.sourceVersions ?? {}).map(([path, v]) => `${path}@${v}`);
    if (h.omittedSources) versions.push(`${h.omittedSources} more`);
    return { time: h.time, what: [h.trigger, ...versions].join(' ') };
  }
  if (obj.kind === 'SecretRotation') {
    const h = obj.status?.history?.[0];
    if (!h) return undefined;
    const restored = h.restoredFrom === undefined ? '' : ` (the value of version ${h.restoredFrom})`;
    return { time: h.time, what: `version ${h.version}${restored} ${h.outcome}` };
  }
  return undefined;
}

export function explain(
  obj: VaultSyncResource,
  rawEvents: readonly ClusterEvent[],
  now: number,
): Explanation {
  const ready = readyCondition(obj);
  const events = rawEvents.map((e) => {
    const t = eventTime(e);
    return {
      ...(t > 0 && { time: new Date(t).toISOString() }),
      type: e.type ?? '',
      reason: e.reason ?? '',
      message: e.message ?? '',
      count: e.count ?? 1,
    };
  });
  const failure = failureOf(obj, ready, events);
  const since = ready?.lastTransitionTime ? Date.parse(ready.lastTransitionTime) : undefined;
  const refusedBy = failure && refusalOf(failure.reason, failure.message);
  const change = lastChange(obj);
  return {
    kind: obj.kind,
    namespace: obj.metadata.namespace ?? '',
    name: obj.metadata.name ?? '',
    healthy: failure === undefined,
    ready: {
      status: ready?.status ?? 'Unknown',
      ...(ready?.reason && { reason: ready.reason }),
      ...(ready?.message && { message: ready.message }),
      ...(ready?.lastTransitionTime && { since: ready.lastTransitionTime }),
    },
    ...(failure && { failure }),
    ...(refusedBy && { refusedBy }),
    ...(failure && { nextRetry: nextRetry(obj, failure.reason, since, now) }),
    ...(change && { lastChange: change }),
    events: events.slice(-10),
  };
}

const REFUSER = {
  tenancy: 'the tenancy rules of',
  backend: 'the backend',
  kubernetes: 'the Kubernetes apiserver',
} as const;

export function formatExplanation(x: Explanation, format: OutputFormat, now: number): string {
  if (format !== 'table') return formatDocument(x, format);
  const head = `${x.kind} ${x.namespace}/${x.name}: ${x.healthy ? 'nothing to explain, ' : ''}Ready=${x.ready.status}`;
  const rows: string[][] = [
    ['Ready:', `${x.ready.status} ${x.ready.reason ?? ''} (since ${relativeTime(x.ready.since, now)})`],
    ...(x.ready.message ? [['Message:', x.ready.message]] : []),
  ];
  if (x.failure && x.failure.reason !== x.ready.reason) {
    rows.push(['Failing:', `${x.failure.reason}: ${x.failure.message}`]);
  }
  if (x.refusedBy) {
    const who =
      x.refusedBy.by === 'tenancy'
        ? `${REFUSER.tenancy} backend "${x.refusedBy.backend ?? '?'}"`
        : REFUSER[x.refusedBy.by];
    rows.push(['Refused by:', who]);
    if (x.refusedBy.rule) rows.push(['Rule:', x.refusedBy.rule]);
    rows.push(['Why:', x.refusedBy.explanation]);
  }
  if (x.lastChange) {
    rows.push([
      'Last change:',
      `${relativeTime(x.lastChange.time, now)} (${x.lastChange.time}): ${x.lastChange.what}`,
    ]);
  }
  if (x.nextRetry) {
    const when = x.nextRetry.at ? `${relativeTime(x.nextRetry.at, now)} (${x.nextRetry.at}): ` : '';
    rows.push(['Next retry:', `${when}${x.nextRetry.text}`]);
  }
  const events =
    x.events.length === 0
      ? '  Events: none (events expire after an hour)\n'
      : `  Events:\n${formatTable(
          ['last seen', 'type', 'reason', 'message'],
          x.events.map((e) => [
            relativeTime(e.time, now),
            e.type,
            e.reason,
            e.count > 1 ? `${e.message} (x${e.count})` : e.message,
          ]),
        )
          .split('\n')
          .map((l) => (l ? `    ${l}` : l))
          .join('\n')}`;
  return `${head}\n${formatColumns(rows, '  ')}${events}`;
}
