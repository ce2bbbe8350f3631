// Reconciles one VaultCertificate: parse the Secret, ask the policy chain whether a new
// certificate is needed, and if so make the key (or reuse it), have the issuer sign or issue,
// write the Secret and then the status. Otherwise keep the Secret's metadata and extra outputs
// in line and requeue at the renewal time. Failures back off exponentially (the state lives in
// status, so a restart does not shorten the wait); status and events are written only on change.
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import type { V1Secret } from '@kubernetes/client-node';
import type { VaultCertificate, VaultCertificateStatus } from '../../apis/v1alpha1/index.ts';
import { API_VERSION, LEGACY_FIELD_MANAGER } from '../../apis/v1alpha1/index.ts';
import { BackendError } from '../../backends/errors.ts';
import type { IssuedCertificate, Issuer } from '../../issuers/index.ts';
import { type KubeClient, getObject, patchStatus, serverSideApply } from '../../kube/client.ts';
import type { Clock } from '../../kube/clock.ts';
import {
  type Condition,
  formatTime,
  getCondition,
  removeCondition,
  setCondition,
} from '../../kube/conditions.ts';
import type { ReconcileContext, ReconcileResult } from '../../kube/controller.ts';
import { KubeError, isTransient, toKubeError } from '../../kube/errors.ts';
import { addFinalizer, hasFinalizer, removeFinalizer } from '../../kube/finalizers.ts';
import { releaseFields } from '../../kube/managed-fields.ts';
import { invalidSpecMessage } from '../invalid-spec.ts';
import { refusedWriteMessage } from '../vaultsecret/refused-write.ts';
import { isNotLeader } from '../../kube/fence.ts';
import { keyFor } from '../../kube/resources.ts';
import {
  type CertificateInfo,
  KeyFormatError,
  type PrivateKey,
  type RsaKeyGenerator,
  certificateInfo,
  createCsr,
  generatePrivateKey,
  keySpecEqual,
  parsePrivateKeyPem,
} from '../../pki/index.ts';
import { macDigest } from '../reload/annotations.ts';
import type { MacKeyring } from '../../secrets/mac-keyring.ts';
import { type ObservedSecret, certificateMac, observeSecret } from './observed.ts';
import { type Violation, namesMissing, shouldIssue, stillUsable } from './policies.ts';
import { EventReason, IssuingReason, Reason, reasonForBackendError } from './reasons.ts';
import { type RecordedCertificate, recordedCertificate, superseded } from './recorded.ts';
import { backoffRemaining, issuanceBackoff, type Renewal, renewalTime } from './renewal.ts';
import {
  type CertificateMaterial,
  FIELD_MANAGER,
  MAC_KEYS,
  SECRET_TYPE,
  desiredSecret,
  mayWrite,
  secretData,
  secretUpToDate,
} from './secret.ts';
import {
  type DesiredCertificate,
  desiredCertificate,
  issuerRef,
  parseIssuerRef,
  requestHash,
} from './spec.ts';

export const FINALIZER = 'vaultsync.io/revoke-certificate';
/** Requeues are capped: a daily look at every certificate, and no timer beyond setTimeout's range. */
export const MAX_REQUEUE_MS = 24 * 3_600_000;
/** A granted lifetime this much shorter than requested still counts as granted (rounding, clocks). */
const DURATION_TOLERANCE_MS = 60_000;

/**
 * Events are best effort and never reject (kube/events.ts): the reconciler does not wait for
 * them, so a slow Event write never holds a worker.
 */
export interface EventSink {
  normal(obj: VaultCertificate, reason: string, message: string): Promise<void>;
  warning(obj: VaultCertificate, reason: string, message: string): Promise<void>;
}

/**
 * Workload restarts (the reload controller shared with VaultSecret and SecretRotation):
 * rolloutRestartTargets are restarted when a certificate is replaced, never on the first one.
 * An Argo Rollout is restarted by spec.restartAt while its CRD is served, else skipped with a
 * warning event on this VaultCertificate (the reload controller decides).
 */
export interface RestartSink {
  requestRestart(req: {
    namespace: string;
    workloads: readonly { kind: 'Deployment' | 'StatefulSet' | 'DaemonSet' | 'Rollout'; name: string }[];
    secrets: Readonly<Record<string, string>>;
    group: string;
    reason: string;
  }): void;
}

/** Issuance outcomes for metrics (observability/metrics.ts implements it). */
export interface CertificateMetricsSink {
  issuance(issuer: string, mode: string, outcome: string, seconds: number): void;
}

export interface VaultCertificateReconcilerDeps {
  client: KubeClient;
  certificates: { get(key: string): VaultCertificate | undefined };
  /** The label-filtered Secret cache (only Secrets this controller wrote). */
  secrets: { get(key: string): V1Secret | undefined };
  issuers: { get(name: string): Issuer | undefined };
  events: EventSink;
  /** status.certificateMAC is bound to the namespace and Secret (secrets/mac-keyring.ts). */
  macKeys: MacKeyring;
  clock: Clock;
  rsa: RsaKeyGenerator;
  metrics?: CertificateMetricsSink;
  restarts?: RestartSink;
  /** Retry delay for failures outside issuance that need a user's fix (no issuer, Secret not ours). */
  userErrorRetryMs?: number;
}

/** A failure to report on the resource. */
class IssuanceFailure extends Error {
  readonly reason: string;
  readonly retryAfterMs: number | undefined;
  constructor(reason: string, message: string, retryAfterMs?: number) {
    super(message);
    this.reason = reason;
    this.retryAfterMs = retryAfterMs;
  }
}

/**
 * A Kubernetes write (the Secret, the status, the finalizer) the apiserver refused with a 4xx
 * that retrying alone does not fix: Ready=False SecretWriteFailed with the apiserver's message
 * (kube/errors.ts keeps only its capped, printable text; no values), retried at the user-error
 * interval.
 */
class WriteRefused extends IssuanceFailure {
  /** The status patch itself was refused: the failure cannot be recorded the usual way. */
  readonly status: boolean;
  constructor(what: string, err: KubeError, retryAfterMs: number, status = false, values?: Iterable<Buffer>) {
    // The message names fields, not values; anything being written is cut out all the same.
    super(Reason.SecretWriteFailed, refusedWriteMessage(what, err, values), retryAfterMs);
    this.status = status;
  }
}

/** The bytes of a Secret being applied: cut out of any refusal message. */
function valuesOf(secret: V1Secret): Buffer[] {
  return Object.values(secret.data ?? {}).map((v) => Buffer.from(v, 'base64'));
}

/** A 4xx other than throttling or a conflict: the request must change before it can succeed. */
function refusal(err: unknown): KubeError | undefined {
  if (err instanceof IssuanceFailure) return undefined;
  const e = toKubeError(err);
  return e.status >= 400 && e.status < 500 && !e.transient ? e : undefined;
}

/** The apiserver's refusal of the Secret write `want`, its values cut out (undefined: not a refusal). */
function secretWriteRefused(
  err: unknown,
  secretName: string,
  want: V1Secret,
  retryAfterMs: number,
): WriteRefused | undefined {
  const refused = refusal(err);
  return refused && new WriteRefused(`Secret ${secretName}`, refused, retryAfterMs, false, valuesOf(want));
}

/**
 * A certificate issued whose Secret write failed: kept so the retry writes it again instead of
 * having a second one signed. Valid for the generation and request it was issued for.
 */
interface Unwritten {
  generation: number | undefined;
  requestHash: string;
  revision: number;
  issued: IssuedCertificate;
  key: PrivateKey;
  cert: CertificateInfo;
}

/** What this replica last wrote per resource: survives a stale informer cache, not a restart. */
interface Written {
  secretName: string;
  secretResourceVersion: string | undefined;
  mac: string;
  revision: number;
  /** The certificate written (serial and issuer), also recorded in status. */
  serialNumber: string;
  issuer: string;
  status?: VaultCertificateStatus;
}

export function createVaultCertificateReconciler(deps: VaultCertificateReconcilerDeps) {
  const userErrorRetryMs = deps.userErrorRetryMs ?? 5 * 60_000;
  const written = new Map<string, Written>();
  const unwritten = new Map<string, Unwritten>();
  // The Warning last emitted per resource while its status could not record it (status refused).
  const warnedUnrecorded = new Map<string, string>();
  // The parsed Secret per resource, by the Secret's resourceVersion: reconciles that follow our
  // own writes (and informer resyncs) parse nothing again.
  const parsed = new Map<string, ObservedSecret>();
  const observe = (key: string, secret: V1Secret | undefined): ObservedSecret => {
    const rv = secret?.metadata?.resourceVersion;
    const hit = parsed.get(key);
    if (hit && rv !== undefined && hit.resourceVersion === rv) return hit;
    const observed = observeSecret(secret, deps.macKeys);
    if (rv !== undefined) parsed.set(key, observed);
    else parsed.delete(key);
    return observed;
  };
  const materialMac = (secret: V1Secret) => materialMacOf(deps.macKeys, secret);
  /** Does the Secret as observed hold the material `mac` was made of? */
  const holds = (observed: ObservedSecret) => (mac: string) =>
    observed.macVerdict !== undefined && observed.macVerdict(mac) !== 'mismatch';
  /** The certificate vaultsync last wrote for `vc` (recorded.ts): what revocation may touch. */
  const recorded = (vc: VaultCertificate, key: string, observed: ObservedSecret) =>
    recordedCertificate({
      status: vc.status,
      written: written.get(key),
      secretName: vc.spec.secretName,
      observed,
      holds: holds(observed),
      desiredIssuer: issuerRef(desiredCertificate(vc)),
    });

  const ref = (vc: VaultCertificate) => ({
    apiVersion: API_VERSION,
    kind: 'VaultCertificate',
    namespace: vc.metadata?.namespace ?? '',
    name: vc.metadata?.name ?? '',
  });
  const secretRef = (vc: VaultCertificate, name: string) => ({
    apiVersion: 'v1',
    kind: 'Secret',
    namespace: vc.metadata?.namespace ?? '',
    name,
  });
  const conditionsOf = (vc: VaultCertificate) => vc.status?.conditions as Condition[] | undefined;

  /**
   * The Secret: from the cache when it shows what we last wrote (or we never wrote it);
   * otherwise from the apiserver, since the cache may not have caught up with our own write.
   */
  async function currentSecret(
    vc: VaultCertificate,
    key: string,
    name: string,
  ): Promise<V1Secret | undefined> {
    const cached = deps.secrets.get(keyFor(vc.metadata?.namespace, name));
    const record = written.get(key);
    const stale =
      record !== undefined &&
      record.secretName === name &&
      cached?.metadata?.resourceVersion !== record.secretResourceVersion;
    if (cached && !stale) return cached;
    return getObject<V1Secret>(deps.client, secretRef(vc, name));
  }

  async function writeStatus(
    vc: VaultCertificate,
    key: string,
    status: VaultCertificateStatus,
  ): Promise<void> {
    const record = written.get(key);
    const current = vc.status ?? {};
    if (statusEqual(current, status) || (record?.status && statusEqual(record.status, status))) return;
    // A merge patch: fields we drop must be sent as null to be removed.
    const patch: Record<string, unknown> = { ...status };
    for (const k of Object.keys(current)) if (!(k in status)) patch[k] = null;
    try {
      await patchStatus(deps.client, ref(vc), patch, { fieldManager: FIELD_MANAGER });
    } catch (err) {
      const refused = refusal(err);
      if (!refused) throw err;
      throw new WriteRefused(
        `the status of VaultCertificate ${vc.metadata?.name ?? ''}`,
        refused,
        userErrorRetryMs,
        true,
      );
    }
    if (record) record.status = status;
  }

  /**
   * The status with a failure in it, written; when the apiserver refuses it, the Ready condition
   * alone is tried (the rest of the status may be what it refuses). True when either was stored.
   */
  async function recordFailure(
    vc: VaultCertificate,
    key: string,
    status: VaultCertificateStatus,
  ): Promise<boolean> {
    try {
      await writeStatus(vc, key, status);
      return true;
    } catch (err) {
      if (!(err instanceof WriteRefused && err.status)) throw err;
    }
    try {
      await patchStatus(
        deps.client,
        ref(vc),
        { conditions: status.conditions, observedGeneration: status.observedGeneration },
        { fieldManager: FIELD_MANAGER },
      );
      return true;
    } catch (err) {
      if (!refusal(err)) throw err;
      return false;
    }
  }

  /**
   * One Warning per change of reason or message: judged by the Ready condition stored before,
   * and, while the status cannot be written, by what this replica said last.
   */
  function warnOnChange(
    vc: VaultCertificate,
    key: string,
    previous: Condition | undefined,
    reason: string,
    message: string,
    recorded: boolean,
  ): void {
    const said = `${reason}\n${message}`;
    const same =
      (previous?.status === 'False' && previous.reason === reason && previous.message === message) ||
      warnedUnrecorded.get(key) === said;
    if (!same) void deps.events.warning(vc, reason, message);
    if (recorded) warnedUnrecorded.delete(key);
    else warnedUnrecorded.set(key, said);
  }

  function withConditions(
    vc: VaultCertificate,
    base: VaultCertificateStatus,
    ready: Omit<Condition, 'type' | 'lastTransitionTime'>,
    issuing?: Omit<Condition, 'type' | 'lastTransitionTime'>,
  ) {
    const now = deps.clock.now();
    const generation = vc.metadata?.generation;
    let conditions = setCondition(
      conditionsOf(vc),
      { type: 'Ready', observedGeneration: generation, ...ready },
      now,
    );
    conditions = issuing
      ? setCondition(conditions, { type: 'Issuing', observedGeneration: generation, ...issuing }, now)
      : removeCondition(conditions, 'Issuing');
    return { ...base, conditions, observedGeneration: generation };
  }

  /** A failure before any issuance attempt (no issuer, Secret not ours): Ready=False, slow retry. */
  async function blocked(
    vc: VaultCertificate,
    key: string,
    reason: string,
    message: string,
  ): Promise<ReconcileResult> {
    const previous = getCondition(conditionsOf(vc), 'Ready');
    const recorded = await recordFailure(
      vc,
      key,
      withConditions(vc, { ...vc.status }, { status: 'False', reason, message }, issuingOf(vc)),
    );
    warnOnChange(vc, key, previous, reason, message, recorded);
    return { requeueAfter: userErrorRetryMs };
  }

  function issuingOf(vc: VaultCertificate) {
    const c = getCondition(conditionsOf(vc), 'Issuing');
    return c ? { status: c.status, reason: c.reason, message: c.message } : undefined;
  }

  async function syncFinalizer(vc: VaultCertificate, desired: DesiredCertificate): Promise<void> {
    const has = hasFinalizer(vc, FINALIZER);
    try {
      if (desired.revokeOnDelete && !has)
        await addFinalizer(deps.client, vc, FINALIZER, { fieldManager: FIELD_MANAGER });
      if (!desired.revokeOnDelete && has)
        await removeFinalizer(deps.client, vc, FINALIZER, { fieldManager: FIELD_MANAGER });
    } catch (err) {
      const refused = refusal(err);
      if (!refused) throw err;
      throw new WriteRefused(
        `the finalizer of VaultCertificate ${vc.metadata?.name ?? ''}`,
        refused,
        userErrorRetryMs,
      );
    }
  }

  /**
   * revokeOnDelete: revoke the certificate vaultsync last wrote, as status (or this replica)
   * recorded it, then let the resource go. The Secret's own contents pick nothing.
   */
  async function finalize(
    vc: VaultCertificate,
    key: string,
    ctx: ReconcileContext,
  ): Promise<ReconcileResult> {
    if (!hasFinalizer(vc, FINALIZER)) {
      written.delete(key);
      return;
    }
    const secret = await getObject<V1Secret>(deps.client, secretRef(vc, vc.spec.secretName));
    const observed = observeSecret(mayWrite(vc, secret).allowed ? secret : undefined, deps.macKeys);
    const current = recorded(vc, key, observed);
    written.delete(key);
    if (!current && vc.status?.serialNumber)
      unrecordedIssuer(vc, vc.status.serialNumber, 'the resource is deleted');
    const serial = current?.serialNumber;
    const issuerName = parseIssuerRef(current?.issuer ?? '');
    const issuer = current ? deps.issuers.get(issuerName.backend) : undefined;
    if (serial && issuer?.supportsRevocation) {
      try {
        await issuer.revoke(serial, {
          namespace: vc.metadata?.namespace ?? '',
          signal: ctx.signal,
          ...(issuerName.role ? { role: issuerName.role } : {}),
        });
        ctx.log.info('Revoked certificate', { serialNumber: serial, issuer: issuerName.backend });
        void deps.events.normal(
          vc,
          EventReason.Revoked,
          `Revoked certificate ${serial} as the resource is deleted`,
        );
      } catch (err) {
        if (err instanceof BackendError && err.transient) throw err; // retried with backoff
        const message = err instanceof Error ? err.message : 'revocation failed';
        void deps.events.warning(
          vc,
          EventReason.RevocationFailed,
          `Could not revoke certificate ${serial}: ${message}`,
        );
      }
    }
    await removeFinalizer(deps.client, vc, FINALIZER, { fieldManager: FIELD_MANAGER });
    return undefined;
  }

  /** Nothing to issue: keep metadata and extra outputs in line, status current, come back at renewal. */
  async function upToDate(
    vc: VaultCertificate,
    key: string,
    desired: DesiredCertificate,
    secret: V1Secret,
    observed: ObservedSecret,
    renewal: Renewal,
    ctx: ReconcileContext,
  ): Promise<ReconcileResult> {
    const cert = observed.cert!;
    const record = written.get(key);
    const revision = Math.max(vc.status?.revision ?? 0, observed.revision ?? 0, record?.revision ?? 0, 1);
    let mac = observed.mac!;
    // The Secret (this resourceVersion) was already found complete for this spec: skip the rebuild.
    const stamp = `${vc.metadata?.generation ?? 0}/${revision}`;
    if (observed.verified !== stamp) {
      const material: CertificateMaterial = {
        certPem: observed.certPem!,
        chainPem: observed.chainPem,
        caPem: observed.caPem ?? observed.chainPem[observed.chainPem.length - 1] ?? observed.certPem!,
        keyPem: observed.key!.pem(),
        ...(desired.outputs.der ? { keyDer: observed.key!.der() } : {}),
      };
      const want = desiredSecret(vc, desired, secretData(desired, material), {
        issuer: issuerRef(desired),
        requestHash: requestHash(desired),
        revision,
      });
      if (!secretUpToDate(secret, want)) {
        let applied: V1Secret;
        try {
          applied = await applySecret(want);
        } catch (err) {
          throw secretWriteRefused(err, desired.secretName, want, userErrorRetryMs) ?? err;
        }
        mac = materialMac(want);
        written.set(key, {
          secretName: desired.secretName,
          secretResourceVersion: applied.metadata?.resourceVersion,
          mac,
          revision,
          serialNumber: cert.serialNumber,
          issuer: issuerRef(desired),
          ...(record?.status ? { status: record.status } : {}),
        });
        ctx.log.info('Updated Secret', { target: desired.secretName, why: 'metadata or extra outputs' });
        void deps.events.normal(
          vc,
          EventReason.SecretUpdated,
          `Updated Secret ${desired.secretName} (labels, annotations or extra outputs)`,
        );
      } else {
        observed.verified = stamp;
        if (
          record &&
          record.mac === mac &&
          record.secretResourceVersion !== secret.metadata?.resourceVersion
        ) {
          record.secretResourceVersion = secret.metadata?.resourceVersion;
        }
      }
    }
    const note = renewal.adjusted
      ? `; renewBefore is not shorter than the certificate's lifetime, so it renews after two thirds of it`
      : '';
    // The issuer is the spec's: the chain found the recorded one (or, in a status from before
    // issuers were recorded, the Secret's annotation next to unchanged material) equal to it.
    const status = withConditions(
      vc,
      successFields(vc.status, cert, issuerRef(desired), renewal, revision, mac),
      {
        status: 'True',
        reason: Reason.Issued,
        message: `Certificate is up to date and has not expired${note}`,
      },
    );
    await writeStatus(vc, key, status);
    return { requeueAfter: requeueDelay(renewal.at - deps.clock.now()) };
  }

  /** The key for mode sign: the one in the Secret under rotationPolicy Never, else a new one. */
  async function signingKey(
    desired: DesiredCertificate,
    observed: ObservedSecret,
    signal: AbortSignal,
  ): Promise<PrivateKey> {
    if (desired.rotationPolicy === 'Never' && observed.key && keySpecEqual(observed.key.spec, desired.key)) {
      return observed.key;
    }
    try {
      return await generatePrivateKey(desired.key, { rsa: deps.rsa, signal });
    } catch (err) {
      if (signal.aborted) throw err;
      throw new IssuanceFailure(
        Reason.KeyGenerationFailed,
        `could not generate a ${desired.key.algorithm} key: ${err instanceof Error ? err.message : 'unknown error'}`,
      );
    }
  }

  async function obtain(
    vc: VaultCertificate,
    desired: DesiredCertificate,
    issuer: Issuer,
    observed: ObservedSecret,
    ctx: ReconcileContext,
  ): Promise<{ issued: IssuedCertificate; key: PrivateKey; cert: CertificateInfo }> {
    const callCtx = { namespace: vc.metadata?.namespace ?? '', signal: ctx.signal };
    const order = {
      ...desired.request,
      ...(desired.durationMs === undefined ? {} : { durationMs: desired.durationMs }),
      ...(desired.issuer.role === undefined ? {} : { role: desired.issuer.role }),
    };
    let issued: IssuedCertificate;
    let key: PrivateKey;
    if (desired.mode === 'sign') {
      key = await signingKey(desired, observed, ctx.signal);
      const csrPem = await createCsr(desired.request, key);
      issued = await issuer.sign({ ...order, csrPem }, callCtx);
    } else {
      issued = await issuer.issue({ ...order, key: desired.key }, callCtx);
      try {
        key = parsePrivateKeyPem(issued.privateKeyPem?.reveal() ?? '');
      } catch (err) {
        if (!(err instanceof KeyFormatError)) throw err;
        throw new IssuanceFailure(
          Reason.InvalidIssuedCertificate,
          `issuer ${issuer.name} returned no usable private key`,
        );
      }
    }
    let cert: CertificateInfo;
    try {
      cert = certificateInfo(issued.certificatePem);
    } catch {
      throw new IssuanceFailure(
        Reason.InvalidIssuedCertificate,
        `issuer ${issuer.name} returned a certificate that cannot be read`,
      );
    }
    if (!key.spki().equals(cert.spki)) {
      throw new IssuanceFailure(
        Reason.InvalidIssuedCertificate,
        `issuer ${issuer.name} returned a certificate for another key`,
      );
    }
    return { issued, key, cert };
  }

  /** What the backend granted must fit the spec, or the next reconcile would issue again at once. */
  function checkGranted(
    desired: DesiredCertificate,
    issuerName: string,
    issued: IssuedCertificate,
    cert: CertificateInfo,
    requestedAt: number,
    renewal: Renewal,
  ): void {
    const warnings = issued.warnings.length > 0 ? `: ${issued.warnings.join('; ')}` : '';
    if (desired.durationMs !== undefined) {
      const granted = cert.notAfter.getTime() - requestedAt;
      const tolerance = Math.max(DURATION_TOLERANCE_MS, desired.durationMs / 100);
      if (granted < desired.durationMs - tolerance) {
        throw new IssuanceFailure(
          Reason.DurationNotGranted,
          `${issuerName} granted ${formatHours(granted)} instead of the requested ${formatHours(desired.durationMs)}${warnings}; ` +
            'lower spec.duration or raise the maximum of the issuer (a Vault role max_ttl)',
        );
      }
    }
    const names = namesMissing({
      desired,
      requestHash: '',
      observed: { exists: true, hasData: true, chainPem: [], cert },
      expectedMac: undefined,
      renewal: undefined,
      now: 0,
    });
    if (names)
      throw new IssuanceFailure(
        Reason.NamesNotGranted,
        `${issuerName} issued a certificate that ${names.message.replace(/^the certificate /, '')}${warnings}`,
      );
    if (renewal.at <= deps.clock.now()) {
      throw new IssuanceFailure(
        Reason.DurationNotGranted,
        `${issuerName} issued a certificate valid until ${cert.notAfter.toISOString()}, which is already due for renewal; lengthen spec.duration or shorten renewBefore`,
      );
    }
  }

  /** The certificate kept from a failed Secret write, while it still fits the spec and is not due. */
  function keptCertificate(vc: VaultCertificate, key: string, desired: DesiredCertificate) {
    const kept = unwritten.get(key);
    if (!kept) return undefined;
    const fits =
      kept.generation === vc.metadata?.generation &&
      kept.requestHash === requestHash(desired) &&
      renewalTime(kept.cert, desired.renewBefore).at > deps.clock.now();
    if (!fits) unwritten.delete(key);
    return fits ? kept : undefined;
  }

  async function issue(
    vc: VaultCertificate,
    key: string,
    desired: DesiredCertificate,
    issuer: Issuer,
    secret: V1Secret | undefined,
    observed: ObservedSecret,
    trigger: Violation,
    ctx: ReconcileContext,
  ): Promise<ReconcileResult> {
    const started = deps.clock.now();
    const record = written.get(key);
    const previousRevision = Math.max(
      vc.status?.revision ?? 0,
      observed.revision ?? 0,
      record?.revision ?? 0,
    );
    const previous = recorded(vc, key, observed);
    // A certificate issued earlier whose Secret write failed is written now, not signed again.
    const kept = keptCertificate(vc, key, desired);
    const revision = kept?.revision ?? previousRevision + 1;
    try {
      const { issued, key: privateKey, cert } = kept ?? (await obtain(vc, desired, issuer, observed, ctx));
      const renewal = renewalTime(cert, desired.renewBefore);
      if (!kept) checkGranted(desired, issuer.name, issued, cert, started, renewal);
      else ctx.log.info('Writing the certificate issued before again', { serialNumber: cert.serialNumber });
      const material: CertificateMaterial = {
        certPem: issued.certificatePem,
        chainPem: issued.chainPem,
        caPem: issued.caPem,
        keyPem: privateKey.pem(),
        ...(desired.outputs.der ? { keyDer: privateKey.der() } : {}),
      };
      const want = desiredSecret(vc, desired, secretData(desired, material), {
        issuer: issuerRef(desired),
        requestHash: requestHash(desired),
        revision,
      });
      let applied: V1Secret;
      try {
        applied = await applySecret(want);
      } catch (err) {
        unwritten.set(key, {
          generation: vc.metadata?.generation,
          requestHash: requestHash(desired),
          revision,
          issued,
          key: privateKey,
          cert,
        });
        if (isNotLeader(err)) throw err;
        const refused = secretWriteRefused(err, desired.secretName, want, userErrorRetryMs);
        if (refused) throw refused;
        const e = toKubeError(err);
        if (e.transient) throw e;
        throw new IssuanceFailure(
          Reason.SecretWriteFailed,
          `could not write Secret ${desired.secretName}: ${e.message}`,
        );
      }
      unwritten.delete(key);
      const mac = materialMac(want);
      const current: RecordedCertificate = { serialNumber: cert.serialNumber, issuer: issuerRef(desired) };
      written.set(key, {
        secretName: desired.secretName,
        secretResourceVersion: applied.metadata?.resourceVersion,
        mac,
        revision,
        ...current,
      });
      if (applied.metadata?.resourceVersion !== undefined) {
        parsed.set(key, {
          exists: true,
          hasData: true,
          certPem: material.certPem,
          chainPem: [...material.chainPem],
          caPem: material.caPem,
          cert,
          key: privateKey,
          keyMatchesCert: true,
          verified: `${vc.metadata?.generation ?? 0}/${revision}`,
          mac,
          issuer: issuerRef(desired),
          requestHash: requestHash(desired),
          revision,
          resourceVersion: applied.metadata.resourceVersion,
        });
      }
      const seconds = (deps.clock.now() - started) / 1000;
      deps.metrics?.issuance(issuer.name, desired.mode, 'success', seconds);

      // Revoked before status records the new certificate: until then status still names the
      // one replaced, so a crash in between leaves it recorded, and the next issuance revokes it.
      await revokeSuperseded(vc, desired, previous, current, ctx);
      const status = withConditions(
        vc,
        successFields(vc.status, cert, current.issuer, renewal, revision, mac),
        {
          status: 'True',
          reason: Reason.Issued,
          message: 'Certificate is up to date and has not expired',
        },
      );
      await writeStatus(vc, key, status);
      const what = `certificate ${cert.serialNumber} (revision ${revision}), valid until ${cert.notAfter.toISOString()}`;
      const first = trigger.reason === IssuingReason.DoesNotExist && previousRevision === 0;
      const renewing = trigger.reason === IssuingReason.Renewing || trigger.reason === IssuingReason.Expired;
      ctx.log.info(first ? 'Issued certificate' : renewing ? 'Renewed certificate' : 'Reissued certificate', {
        target: desired.secretName,
        serialNumber: cert.serialNumber,
        revision,
        notAfter: cert.notAfter.toISOString(),
        why: trigger.reason,
        seconds,
      });
      if (first) void deps.events.normal(vc, EventReason.Issued, `Issued ${what}`);
      else if (renewing) void deps.events.normal(vc, EventReason.Renewed, `Renewed ${what}`);
      else void deps.events.normal(vc, EventReason.Reissued, `Reissued ${what} because ${trigger.message}`);

      if (!first) requestRestarts(vc, desired, mac);
      return { requeueAfter: requeueDelay(renewal.at - deps.clock.now()) };
    } catch (err) {
      if (ctx.signal.aborted || isNotLeader(err)) throw err;
      const failure = toFailure(err);
      deps.metrics?.issuance(issuer.name, desired.mode, failure.reason, (deps.clock.now() - started) / 1000);
      return failed(vc, key, observed, trigger, failure, ctx);
    }
  }

  async function failed(
    vc: VaultCertificate,
    key: string,
    observed: ObservedSecret,
    trigger: Violation,
    failure: IssuanceFailure,
    ctx: ReconcileContext,
  ): Promise<ReconcileResult> {
    const now = deps.clock.now();
    const attempts = (vc.status?.failedIssuanceAttempts ?? 0) + 1;
    const seed = vc.metadata?.uid ?? keyFor(vc.metadata?.namespace, vc.metadata?.name ?? '');
    const delay = Math.max(issuanceBackoff(attempts, seed), failure.retryAfterMs ?? 0);
    // A refused Secret write needs a person: Ready=False even while the old certificate is valid.
    const usable =
      !(failure instanceof WriteRefused) &&
      stillUsable(trigger) &&
      observed.cert !== undefined &&
      now < observed.cert.notAfter.getTime();
    const previous = getCondition(conditionsOf(vc), 'Ready');
    const ready = usable
      ? {
          status: 'True' as const,
          reason: Reason.Issued,
          message: `Certificate is valid until ${observed.cert!.notAfter.toISOString()}; renewal is failing (${failure.reason})`,
        }
      : { status: 'False' as const, reason: failure.reason, message: failure.message };
    const status = withConditions(
      vc,
      { ...vc.status, failedIssuanceAttempts: attempts, lastFailureTime: formatTime(now) },
      ready,
      {
        status: 'True',
        reason: trigger.reason,
        message: `${capitalize(trigger.message)}; attempt ${attempts} failed (${failure.reason}): ${failure.message}. Next attempt in ${Math.ceil(delay / 1000)}s`,
      },
    );
    const stored = await recordFailure(vc, key, status);
    ctx.log.info('Certificate issuance failed', {
      reason: failure.reason,
      attempts,
      retryInMs: delay,
      why: trigger.reason,
    });
    const issuing = getCondition(conditionsOf(vc), 'Issuing');
    const sameAsBefore =
      (previous?.reason === failure.reason && previous.message === failure.message) ||
      (issuing?.message?.includes(`(${failure.reason}): ${failure.message}.`) ?? false);
    const said = `${failure.reason}\n${failure.message}`;
    if (!sameAsBefore && warnedUnrecorded.get(key) !== said)
      void deps.events.warning(vc, failure.reason, failure.message);
    if (stored) warnedUnrecorded.delete(key);
    else warnedUnrecorded.set(key, said);
    return { requeueAfter: delay };
  }

  function requestRestarts(vc: VaultCertificate, desired: DesiredCertificate, mac: string): void {
    const targets = vc.spec.rolloutRestartTargets ?? [];
    if (!deps.restarts || targets.length === 0) return;
    deps.restarts.requestRestart({
      namespace: vc.metadata?.namespace ?? '',
      workloads: targets,
      secrets: { [desired.secretName]: macDigest(mac) },
      group: `VaultCertificate/${vc.metadata?.name ?? ''}`,
      reason: `Secret ${desired.secretName} holds a new certificate`,
    });
  }

  /**
   * revokeSuperseded: the certificate just replaced, as vaultsync recorded it (never what the
   * Secret holds), is revoked at its own issuer, best effort.
   */
  async function revokeSuperseded(
    vc: VaultCertificate,
    desired: DesiredCertificate,
    previous: RecordedCertificate | undefined,
    current: RecordedCertificate,
    ctx: ReconcileContext,
  ): Promise<void> {
    if (!desired.revokeSuperseded) return;
    const serial = vc.status?.serialNumber;
    if (!previous && serial !== undefined && serial !== current.serialNumber)
      unrecordedIssuer(vc, serial, 'it is superseded');
    const old = superseded(previous, current);
    if (!old) return;
    const from = parseIssuerRef(old.issuer);
    const issuer = deps.issuers.get(from.backend);
    if (!issuer?.supportsRevocation) return;
    try {
      await issuer.revoke(old.serialNumber, {
        namespace: vc.metadata?.namespace ?? '',
        signal: ctx.signal,
        ...(from.role ? { role: from.role } : {}),
      });
      ctx.log.info('Revoked certificate', { serialNumber: old.serialNumber, why: 'superseded' });
      void deps.events.normal(vc, EventReason.Revoked, `Revoked superseded certificate ${old.serialNumber}`);
    } catch (err) {
      const message = err instanceof Error ? err.message : 'revocation failed';
      void deps.events.warning(
        vc,
        EventReason.RevocationFailed,
        `Could not revoke superseded certificate ${old.serialNumber}: ${message}`,
      );
    }
  }

  /**
   * A status from before issuers were recorded names a serial, but the Secret no longer holds what
   * vaultsync wrote, so nothing says which issuer it came from: it is not revoked, and we say so.
   */
  function unrecordedIssuer(vc: VaultCertificate, serial: string, why: string): void {
    void deps.events.warning(
      vc,
      EventReason.RevocationFailed,
      `Did not revoke certificate ${serial} as ${why}: its issuer is not recorded in status (written by an earlier ` +
        'vaultsync) and the Secret no longer holds what vaultsync wrote',
    );
  }

  /** Server-side apply of the Secret by our field manager; the legacy one hands over its fields. */
  async function applySecret(want: V1Secret): Promise<V1Secret> {
    const applied = await serverSideApply(deps.client, want, { fieldManager: FIELD_MANAGER, force: true });
    return releaseFields(deps.client, applied, LEGACY_FIELD_MANAGER);
  }

  function toFailure(err: unknown): IssuanceFailure {
    if (err instanceof IssuanceFailure) return err;
    if (err instanceof BackendError)
      return new IssuanceFailure(reasonForBackendError(err.code), err.message, err.retryAfterMs);
    if (err instanceof KubeError)
      return new IssuanceFailure(Reason.SecretWriteFailed, err.message, err.retryAfterMs);
    throw err; // not ours to classify: the controller retries it with its own backoff
  }

  async function reconcile(key: string, ctx: ReconcileContext): Promise<ReconcileResult> {
    // A reconcile that finds everything in the caches completes without I/O; without this
    // turn of the event loop, workers draining a full queue (start-up, relist) would hold the
    // loop for the whole queue.
    await yieldToEventLoop();
    const vc = deps.certificates.get(key);
    if (!vc) {
      written.delete(key);
      parsed.delete(key);
      unwritten.delete(key);
      warnedUnrecorded.delete(key);
      return undefined;
    }
    try {
      return await reconcileOne(vc, key, ctx);
    } catch (err) {
      // Transient trouble (apiserver, backend) is retried by the controller with backoff; anything
      // else is shown on the resource: never a silent retry loop.
      const transient = err instanceof BackendError ? err.transient : isTransient(err);
      // Lost leadership (fencing) ends the reconcile: another replica writes now, not us.
      if (ctx.signal.aborted || transient || isNotLeader(err)) throw err;
      return blocked(vc, key, ...failureOf(err, ctx));
    }
  }

  /** Reason and message of a failure that escaped the steps: a refused write, or a bug of ours. */
  function failureOf(err: unknown, ctx: ReconcileContext): [string, string] {
    if (err instanceof IssuanceFailure) return [err.reason, err.message];
    const refused = refusal(err);
    if (refused) return [Reason.SecretWriteFailed, refusedWriteMessage('an object', refused)];
    const name = err instanceof Error ? err.name : typeof err;
    ctx.log.error('Reconcile failed unexpectedly', { error: name });
    return [Reason.InternalError, `unexpected ${name} while reconciling; see the operator log`];
  }

  async function reconcileOne(
    vc: VaultCertificate,
    key: string,
    ctx: ReconcileContext,
  ): Promise<ReconcileResult> {
    if (vc.metadata?.deletionTimestamp) return finalize(vc, key, ctx);
    // The CRD's rules again: an object stored past them gets InvalidSpec, not a throw or a loop.
    const invalid = invalidSpecMessage('VaultCertificate', vc.spec);
    if (invalid) return blocked(vc, key, Reason.InvalidSpec, invalid);
    const now = deps.clock.now();
    const desired = desiredCertificate(vc);
    await syncFinalizer(vc, desired);

    const issuer = deps.issuers.get(desired.issuer.backend);
    if (!issuer) {
      return blocked(
        vc,
        key,
        Reason.IssuerNotFound,
        `issuer "${desired.issuer.backend}" is not in the operator configuration (a vault-pki or local-ca backend)`,
      );
    }
    const secret = await currentSecret(vc, key, desired.secretName);
    const decision = mayWrite(vc, secret);
    if (!decision.allowed) return blocked(vc, key, decision.reason, decision.message);
    // The type of a Secret cannot change, and the operator is granted no delete on Secrets: one
    // of ours with another type waits for a person to delete it (its deletion wakes us at once).
    const type = secret?.type ?? 'Opaque';
    if (secret && type !== SECRET_TYPE) {
      return blocked(
        vc,
        key,
        Reason.SecretTypeMismatch,
        `Secret ${desired.secretName} has type ${type}, and a Secret's type cannot change to ${SECRET_TYPE}; delete the Secret and a new one is written`,
      );
    }

    const observed = observe(key, secret);
    const record = written.get(key);
    if (
      record &&
      observed.mac === record.mac &&
      secret?.metadata?.resourceVersion !== record.secretResourceVersion
    ) {
      record.secretResourceVersion = secret?.metadata?.resourceVersion;
    }
    const mine = record && record.secretName === desired.secretName && observed.mac === record.mac;
    const expectedMac = mine ? record.mac : vc.status?.certificateMAC;
    const recordedIssuer = mine ? record.issuer : vc.status?.issuer;
    const renewal = observed.cert ? renewalTime(observed.cert, desired.renewBefore) : undefined;
    const trigger = shouldIssue({
      desired,
      requestHash: requestHash(desired),
      observed,
      expectedMac,
      recordedIssuer,
      renewal,
      now,
    });
    if (!trigger) return upToDate(vc, key, desired, secret!, observed, renewal!, ctx);

    const seed = vc.metadata?.uid ?? key;
    const wait = backoffRemaining(vc.status, vc.metadata?.generation, seed, now);
    if (wait > 0) {
      ctx.log.debug('Waiting to retry issuance', { waitMs: wait, why: trigger.reason });
      return { requeueAfter: wait };
    }
    ctx.log.debug('Issuing certificate', { why: trigger.reason, detail: trigger.message });
    return issue(vc, key, desired, issuer, secret, observed, trigger, ctx);
  }

  return Object.assign(reconcile, {
    /** Drops what this replica remembers of a deleted resource. */
    forget: (key: string) => {
      written.delete(key);
      parsed.delete(key);
      unwritten.delete(key);
      warnedUnrecorded.delete(key);
    },
  });
}

function successFields(
  current: VaultCertificateStatus | undefined,
  cert: CertificateInfo,
  issuer: string,
  renewal: Renewal,
  revision: number,
  mac: string,
): VaultCertificateStatus {
  const { failedIssuanceAttempts: _f, lastFailureTime: _l, ...rest } = current ?? {};
  return {
    ...rest,
    notBefore: formatTime(cert.notBefore),
    notAfter: formatTime(cert.notAfter),
    renewalTime: formatTime(renewal.at),
    serialNumber: cert.serialNumber,
    issuer,
    revision,
    certificateMAC: mac,
  };
}

/** HMAC of the material in a Secret we apply (same keys and bytes as observeSecret reads). */
export function materialMacOf(macKeys: MacKeyring, secret: V1Secret): string {
  const material = new Map<string, Buffer>();
  for (const k of MAC_KEYS) {
    const v = secret.data?.[k];
    if (v !== undefined) material.set(k, Buffer.from(v, 'base64'));
  }
  return certificateMac(macKeys, secret).mac(material);
}

export function requeueDelay(ms: number): number {
  return Math.min(MAX_REQUEUE_MS, Math.max(1000, ms));
}

function formatHours(ms: number): string {
  const h = ms / 3_600_000;
  return h >= 1 ? `${Math.round(h * 10) / 10}h` : `${Math.round(ms / 60_000)}m`;
}

function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/** Status equality that ignores key order and absent-vs-undefined. */
export function statusEqual(
  a: VaultCertificateStatus | undefined,
  b: VaultCertificateStatus | undefined,
): boolean {
  return canonical(a ?? {}) === canonical(b ?? {});
}

function canonical(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(
          Object.entries(v as Record<string, unknown>)
            .filter(([, x]) => x !== undefined)
            .sort(([x], [y]) => (x < y ? -1 : 1)),
        )
      : v,
  );
}
