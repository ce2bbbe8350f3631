// What the VaultCertificate reconciler depends on, and the context every step of it is handed:
// the dependencies, this replica's memory and the retry interval of failures a person must fix.
import type { V1Secret } from '@kubernetes/client-node';
import { API_VERSION, type VaultCertificate } from '../../apis/v1alpha1/index.ts';
import type { Issuer } from '../../issuers/index.ts';
import type { KubeClient } from '../../kube/client.ts';
import type { OwnWrites } from '../../kube/own-writes.ts';
import type { Clock } from '../../kube/clock.ts';
import type { RsaKeyGenerator } from '../../pki/index.ts';
import type { MacKeyring } from '../../secrets/mac-keyring.ts';
import type { WorkloadRestarts } from '../contracts.ts';
import type { ControllerEvents } from '../lifecycle.ts';
import type { FailureReporter } from '../failure/index.ts';
import type { ReplicaMemory } from './memory.ts';

/**
 * Events and lifecycle facts (controllers/lifecycle.ts): a new certificate is a CertificateIssued
 * fact and a failure a CertificateFailed fact — the Kubernetes Event and the webhook's typed data
 * in one call; revocations and repairs are plain Events. Best effort and never rejecting
 * (kube/events.ts): the reconciler does not wait for them, so a slow Event write never holds a
 * worker.
 */
export type EventSink = ControllerEvents;

/**
 * Workload restarts, offered by the reload controller (controllers/contracts.ts):
 * rolloutRestartTargets are restarted when a certificate is replaced, never on the first one.
 * An Argo Rollout is restarted by spec.restartAt while its CRD is served, else skipped with a
 * warning event on this VaultCertificate (the reload controller decides).
 */
export type RestartSink = WorkloadRestarts;

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
  /** Told of each Secret write, so its echo from the informer wakes no second reconcile. */
  ownWrites?: Pick<OwnWrites, 'record'>;
}

/** Handed to every step: nothing else is shared between reconciles. */
export interface StepContext {
  deps: VaultCertificateReconcilerDeps;
  memory: ReplicaMemory;
  /** The shared failure path: status, one Warning per change (it remembers what it said). */
  failures: FailureReporter;
  userErrorRetryMs: number;
}

/** The VaultCertificate as the apiserver addresses it (status patches, finalizers). */
export const certificateRef = (vc: VaultCertificate) => ({
  apiVersion: API_VERSION,
  kind: 'VaultCertificate',
  namespace: vc.metadata?.namespace ?? '',
  name: vc.metadata?.name ?? '',
});

/** A Secret in the VaultCertificate's namespace. */
export const secretRef = (vc: VaultCertificate, name: string) => ({
  apiVersion: 'v1',
  kind: 'Secret',
  namespace: vc.metadata?.namespace ?? '',
  name,
});
