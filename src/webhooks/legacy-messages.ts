// Lifecycle events from the transitions the controllers already report: a decorator around the
// Kubernetes EventRecorder. The controllers emit an Event only when something changed (a new
// Secret, a new failure reason, a renewal), which is exactly when a receiver wants to hear;
// mapping (kind, reason) here keeps the controllers free of webhook code.
//
//   VaultSecret       Normal SecretCreated | SecretUpdated | Synced (recovered)   → synced
//                     Warning <a Ready=False reason>                             → sync_failed
//   SecretRotation    Normal Rotated                                             → rotated
//                     Warning <a rotation failure reason>                        → rotation_failed
//   VaultCertificate  Normal Issued | Reissued                                   → certificate_issued
//                     Normal Renewed                                             → certificate_renewed
//                     Warning <a Ready=False reason>                             → certificate_failed
//
// Events of other reasons (restarts, revocations, metadata repairs) are not lifecycle events.
import type { KubernetesObject } from '@kubernetes/client-node';
import { Reason as RotationReason } from '../controllers/secretrotation/reasons.ts';
import {
  EventReason as CertificateEventReason,
  Reason as CertificateReason,
} from '../controllers/vaultcertificate/reasons.ts';
import { Reason as SecretReason } from '../controllers/vaultsecret/reasons.ts';
import type { EventDetails, LifecycleEventInput } from './event.ts';

/** What the controllers call (kube/events.ts EventRecorder implements it). */
export interface KubeEventSink {
  normal(obj: KubernetesObject, reason: string, message: string): Promise<void>;
  warning(obj: KubernetesObject, reason: string, message: string): Promise<void>;
}

export interface LifecycleListener {
  /** Synchronous and cheap; must not throw (the decorator guards it anyway). */
  notify(event: LifecycleEventInput): void;
}

const GROUP = 'vaultsync.io';

const SECRET_FAILURES: ReadonlySet<string> = new Set(
  Object.values(SecretReason).filter((r) => r !== SecretReason.Synced),
);
const SECRET_SYNCED: ReadonlySet<string> = new Set(['SecretCreated', 'SecretUpdated', SecretReason.Synced]);
const ROTATION_FAILURES: ReadonlySet<string> = new Set(
  Object.values(RotationReason).filter((r) => r !== RotationReason.Rotated),
);
const CERTIFICATE_FAILURES: ReadonlySet<string> = new Set(
  Object.values(CertificateReason).filter((r) => r !== CertificateReason.Issued),
);

/** `Issued certificate 1a:2b (revision 3), valid until 2030-01-01T00:00:00.000Z` (reconciler.ts). */
const CERTIFICATE_MESSAGE = /certificate ([0-9A-Fa-f:]+) \(revision ([0-9]+)\), valid until ([0-9TZ:.+-]+)/;
/** `Wrote version 4 of shop/db` (secretrotation/reconciler.ts). */
const ROTATION_MESSAGE = /^Wrote version (\S+) of /;

/** The lifecycle event for a Kubernetes Event the controllers record, if it is one. */
export function lifecycleEventFor(
  obj: KubernetesObject,
  type: 'Normal' | 'Warning',
  reason: string,
  message: string,
): LifecycleEventInput | undefined {
  if (!obj.apiVersion?.startsWith(`${GROUP}/`) && obj.apiVersion !== undefined) return undefined;
  const meta = obj.metadata ?? {};
  const resource = {
    apiVersion: obj.apiVersion ?? `${GROUP}/v1alpha1`,
    kind: obj.kind ?? '',
    namespace: meta.namespace ?? '',
    name: meta.name ?? '',
    ...(meta.uid !== undefined && { uid: meta.uid }),
  };
  const spec = (obj as { spec?: Record<string, unknown> }).spec ?? {};
  const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
  const event = (t: LifecycleEventInput['type'], details: EventDetails): LifecycleEventInput => ({
    type: t,
    resource,
    reason,
    message,
    details: Object.fromEntries(Object.entries(details).filter(([, v]) => v !== undefined)) as EventDetails,
  });

  switch (obj.kind) {
    case 'VaultSecret': {
      const target = spec.target as { name?: unknown } | undefined;
      const secretName = str(target?.name) ?? resource.name;
      if (type === 'Normal' && SECRET_SYNCED.has(reason)) return event('synced', { secretName });
      if (type === 'Warning' && SECRET_FAILURES.has(reason)) return event('sync_failed', { secretName });
      return undefined;
    }
    case 'SecretRotation': {
      const where = { backend: str(spec.backend), path: str(spec.path) };
      if (type === 'Normal' && reason === RotationReason.Rotated) {
        return event('rotated', { ...where, version: ROTATION_MESSAGE.exec(message)?.[1] });
      }
      if (type === 'Warning' && ROTATION_FAILURES.has(reason)) return event('rotation_failed', where);
      return undefined;
    }
    case 'VaultCertificate': {
      const secretName = str(spec.secretName);
      if (type === 'Warning') {
        return CERTIFICATE_FAILURES.has(reason) ? event('certificate_failed', { secretName }) : undefined;
      }
      const kind =
        reason === CertificateEventReason.Renewed
          ? 'certificate_renewed'
          : reason === CertificateEventReason.Issued || reason === CertificateEventReason.Reissued
            ? 'certificate_issued'
            : undefined;
      if (!kind) return undefined;
      const m = CERTIFICATE_MESSAGE.exec(message);
      return event(kind, {
        secretName,
        serialNumber: m?.[1]?.toLowerCase(),
        revision: m?.[2] === undefined ? undefined : Number(m[2]),
        notAfter: m?.[3],
      });
    }
    default:
      return undefined;
  }
}

/**
 * Wraps the controllers' event sink: every call is passed on unchanged, and the lifecycle
 * event it stands for (if any) is handed to `listener` first, synchronously. The listener
 * only queues; the returned promise is the inner sink's, so nothing waits on a receiver.
 */
export function withLifecycleEvents(sink: KubeEventSink, listener: LifecycleListener): KubeEventSink {
  const forward = (obj: KubernetesObject, type: 'Normal' | 'Warning', reason: string, message: string) => {
    try {
      const event = lifecycleEventFor(obj, type, reason, message);
      if (event) listener.notify(event);
    } catch {
      // A webhook problem must never turn into a reconcile failure.
    }
  };
  return {
    normal(obj, reason, message) {
      forward(obj, 'Normal', reason, message);
      return sink.normal(obj, reason, message);
    },
    warning(obj, reason, message) {
      forward(obj, 'Warning', reason, message);
      return sink.warning(obj, reason, message);
    },
  };
}
