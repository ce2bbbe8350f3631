// `sync`, `rotate` and `renew`: each sets the annotation the operator answers once per new
// value (a trigger token), exactly as the HTTPS API and a plain `kubectl annotate` do, so they
// need nothing but `patch` on the resource. With --wait they poll until the status records the
// answer (the token's digest) or shows that the attempt failed.
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  SecretRotationReason,
  UserAnnotation,
  tokenAnswered,
  type Kind,
  type VaultSyncResource,
} from '../apis/v1alpha1/index.ts';
import type { Cluster } from './cluster.ts';
import { type OutputFormat, formatDocument } from './output.ts';
import { readyCondition } from './status.ts';

export interface Trigger {
  verb: 'sync' | 'rotate' | 'renew';
  /** What is asked for, in words. */
  what: string;
  kind: Kind;
  annotation: string;
  /** The recorded answer: the digest of the last token handled. */
  handled(obj: VaultSyncResource): string | undefined;
  /** Ready=False reasons that mean "still working on it". */
  progressReasons: ReadonlySet<string>;
}

export const TRIGGERS = {
  sync: {
    verb: 'sync',
    what: 'one read of the backend',
    kind: 'VaultSecret',
    annotation: UserAnnotation.SyncNow,
    handled: (o) => (o.kind === 'VaultSecret' ? o.status?.syncNowHandled : undefined),
    progressReasons: new Set(),
  },
  rotate: {
    verb: 'rotate',
    what: 'one rotation',
    kind: 'SecretRotation',
    annotation: UserAnnotation.RotateNow,
    handled: (o) => (o.kind === 'SecretRotation' ? o.status?.rotateNowHandled : undefined),
    progressReasons: new Set<string>([
      SecretRotationReason.Rotating,
      SecretRotationReason.RollingOut,
      SecretRotationReason.Retiring,
    ]),
  },
  renew: {
    verb: 'renew',
    what: 'one new certificate',
    kind: 'VaultCertificate',
    annotation: UserAnnotation.RenewNow,
    handled: (o) => (o.kind === 'VaultCertificate' ? o.status?.renewNowHandled : undefined),
    progressReasons: new Set(),
  },
} as const satisfies Record<string, Trigger>;

export type TriggerState = 'Pending' | 'Done' | 'Failed';

export interface TriggerResult {
  kind: Kind;
  namespace: string;
  name: string;
  /** The annotation value set: the operator answers each new value once. */
  token: string;
  state: TriggerState;
  reason?: string;
  message?: string;
}

/** A token that sorts by time and never repeats. */
export function newToken(now: Date): string {
  return `${now.toISOString()}-${randomUUID().slice(0, 8)}`;
}

/**
 * The answer to `token` as the resource shows it (pure). Answered and Ready: Done. Answered
 * and Ready=False for a reason other than progress: Failed. A VaultCertificate records the
 * answer only with a new certificate, so an issuance failure after the request (lastFailureTime)
 * is Failed while the operator keeps retrying.
 */
export function triggerState(
  trigger: Trigger,
  obj: VaultSyncResource | undefined,
  token: string,
  requestedAt: number,
): TriggerState {
  if (!obj) return 'Pending';
  if (tokenAnswered(trigger.handled(obj), token)) {
    const ready = readyCondition(obj);
    if (ready?.status !== 'False') return 'Done';
    return trigger.progressReasons.has(ready.reason) ? 'Pending' : 'Failed';
  }
  if (obj.kind === 'VaultCertificate' && obj.status?.lastFailureTime) {
    if (Date.parse(obj.status.lastFailureTime) >= Math.floor(requestedAt / 1000) * 1000) return 'Failed';
  }
  return 'Pending';
}

/** The condition that explains a Failed answer: Issuing for a certificate that stays Ready. */
function explaining(obj: VaultSyncResource | undefined) {
  const ready = obj && readyCondition(obj);
  if (ready?.status === 'False' || obj?.kind !== 'VaultCertificate') return ready;
  return obj.status?.conditions?.find((c) => c.type === 'Issuing') ?? ready;
}

function resultOf(
  trigger: Trigger,
  obj: VaultSyncResource | undefined,
  base: Omit<TriggerResult, 'state' | 'kind'>,
  requestedAt: number,
): TriggerResult {
  const state = triggerState(trigger, obj, base.token, requestedAt);
  const cond = state === 'Pending' ? undefined : explaining(obj);
  return {
    kind: trigger.kind,
    ...base,
    state,
    ...(cond?.reason && { reason: cond.reason }),
    ...(cond?.message && { message: cond.message }),
  };
}

export interface RunTriggerOptions {
  namespace: string;
  name: string;
  /** Wait this long for the answer (ms); 0: do not wait. */
  waitMs: number;
  pollMs?: number;
  now?: () => number;
}

export async function runTrigger(
  cluster: Cluster,
  trigger: Trigger,
  opts: RunTriggerOptions,
): Promise<TriggerResult> {
  const now = opts.now ?? Date.now;
  const requestedAt = now();
  const token = newToken(new Date(requestedAt));
  const base = { namespace: opts.namespace, name: opts.name, token };
  await cluster.annotate(trigger.kind, opts.namespace, opts.name, trigger.annotation, token);
  if (opts.waitMs <= 0) return { kind: trigger.kind, ...base, state: 'Pending' };
  const deadline = requestedAt + opts.waitMs;
  for (;;) {
    const result = resultOf(
      trigger,
      await cluster.get(trigger.kind, opts.namespace, opts.name),
      base,
      requestedAt,
    );
    if (result.state !== 'Pending' || now() >= deadline) return result;
    await sleep(Math.min(opts.pollMs ?? 500, Math.max(0, deadline - now())));
  }
}

const DONE_TEXT = { sync: 'synced', rotate: 'rotated', renew: 'renewed' } as const;
const ASKED_TEXT = { sync: 'sync', rotate: 'rotation', renew: 'renewal' } as const;

export function formatTrigger(
  trigger: Trigger,
  r: TriggerResult,
  format: OutputFormat,
  waited: boolean,
): string {
  if (format !== 'table') return formatDocument(r, format);
  const what = `${r.kind.toLowerCase()}/${r.name}`;
  if (r.state === 'Done') return `${what} ${DONE_TEXT[trigger.verb]}\n`;
  if (r.state === 'Failed')
    return `${what} ${ASKED_TEXT[trigger.verb]} failed: ${r.reason ?? 'unknown'}: ${r.message ?? ''}\n`;
  return waited
    ? `${what} ${ASKED_TEXT[trigger.verb]} requested, not answered yet (is the operator running?)\n`
    : `${what} ${ASKED_TEXT[trigger.verb]} requested (${trigger.annotation}=${r.token})\n`;
}
