// Lifecycle facts: what happened to a resource, as typed data, emitted by the controllers at the
// points where they record the matching Kubernetes Event (one call does both). Subscribers — the
// webhook notifier — receive the fact itself: serials, revisions and versions arrive as fields,
// never parsed back out of an Event message. A fact names things (resources, Secrets, paths,
// serials); it has no field for a value.
import type { KubernetesObject } from '@kubernetes/client-node';
import type { SecretRotation, VaultCertificate, VaultSecret } from '../apis/v1alpha1/index.ts';

/** Every fact carries the Kubernetes Event it is recorded as: its reason and message. */
interface FactOf<T extends string, O extends KubernetesObject> {
  readonly type: T;
  /** The resource it happened to (the Event's involvedObject, the webhook's `resource`). */
  readonly object: O;
  /** CamelCase, as `kubectl describe` shows it. */
  readonly reason: string;
  /** The Event's message; names only, never a value. */
  readonly message: string;
}

/** A VaultSecret's Secret was written (created or updated), or it is in sync again. */
export interface SecretSynced extends FactOf<'SecretSynced', VaultSecret> {
  readonly reason: 'SecretCreated' | 'SecretUpdated' | 'Synced';
  readonly secretName: string;
}

/** A VaultSecret went Ready=False with a new reason (one fact per change of reason). */
export interface SecretSyncFailed extends FactOf<'SecretSyncFailed', VaultSecret> {
  readonly secretName: string;
}

/** A SecretRotation wrote a new version of its path (reason `Rotated`). */
export interface RotationCompleted extends FactOf<'RotationCompleted', SecretRotation> {
  readonly reason: 'Rotated';
  readonly backend: string;
  readonly path: string;
  /** The backend version written, when the backend has versions. */
  readonly version?: string;
}

/** A SecretRotation failed with a new reason (one of its Ready=False / rollout failure reasons). */
export interface RotationFailed extends FactOf<'RotationFailed', SecretRotation> {
  readonly backend: string;
  readonly path: string;
}

/** A VaultCertificate's Secret holds a new certificate: the first (Issued), a renewal, a re-issue. */
export interface CertificateIssued extends FactOf<'CertificateIssued', VaultCertificate> {
  readonly reason: 'Issued' | 'Reissued' | 'Renewed';
  readonly secretName: string;
  /** Hex, lower case. */
  readonly serialNumber: string;
  /** 1 for the first certificate. */
  readonly revision: number;
  /** RFC 3339. */
  readonly notAfter: string;
}

/** A VaultCertificate went Ready=False with a new reason. */
export interface CertificateFailed extends FactOf<'CertificateFailed', VaultCertificate> {
  readonly secretName?: string;
}

export type LifecycleFact =
  | SecretSynced
  | SecretSyncFailed
  | RotationCompleted
  | RotationFailed
  | CertificateIssued
  | CertificateFailed;

export type LifecycleFactType = LifecycleFact['type'];

const FAILURES: ReadonlySet<LifecycleFactType> = new Set([
  'SecretSyncFailed',
  'RotationFailed',
  'CertificateFailed',
]);

/** The Kubernetes Event type a fact is recorded with: failures are Warnings. */
export function eventTypeOf(fact: LifecycleFact): 'Normal' | 'Warning' {
  return FAILURES.has(fact.type) ? 'Warning' : 'Normal';
}

/** Receives every fact, synchronously; must be cheap (queue, don't send) and must not throw. */
export interface LifecycleSubscriber {
  onLifecycleFact(fact: LifecycleFact): void;
}

/** The Kubernetes Event recorder the controllers write through (kube/events.ts EventRecorder). */
export interface KubeEventRecorder {
  normal(obj: KubernetesObject, reason: string, message: string): Promise<void>;
  warning(obj: KubernetesObject, reason: string, message: string): Promise<void>;
}

/**
 * What every controller is given to report with: plain Events (restarts, revocations, repairs),
 * and `fact()` for a lifecycle transition — the Event recorded and the fact handed on, at once.
 */
export interface ControllerEvents extends KubeEventRecorder {
  fact(fact: LifecycleFact): Promise<void>;
}

/**
 * The controllers' event sink: Events go to `recorder`; a fact is first handed to every
 * subscriber (synchronously; a throwing subscriber is ignored), then recorded as its Event. The
 * promise is the recorder's: nothing waits on a subscriber.
 */
export function controllerEvents(
  recorder: KubeEventRecorder,
  subscribers: readonly LifecycleSubscriber[] = [],
): ControllerEvents {
  return {
    normal: (obj, reason, message) => recorder.normal(obj, reason, message),
    warning: (obj, reason, message) => recorder.warning(obj, reason, message),
    fact(fact) {
      for (const s of subscribers) {
        try {
          s.onLifecycleFact(fact);
        } catch {
          // A webhook problem must never turn into a reconcile failure.
        }
      }
      return eventTypeOf(fact) === 'Warning'
        ? recorder.warning(fact.object, fact.reason, fact.message)
        : recorder.normal(fact.object, fact.reason, fact.message);
    },
  };
}
