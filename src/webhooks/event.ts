// The lifecycle event a webhook receiver gets: a closed set of fields that name a resource and
// what happened to it. There is no field for data: values cannot reach a body by construction.
import { createHash, randomUUID } from 'node:crypto';
import type { LifecycleEventType } from '../config/schema.ts';
import { cut } from '../text.ts';

/** Longest message sent (the Kubernetes Event limit). */
export const MAX_MESSAGE = 1024;

/** Extra facts per event type: names, times, serials, versions. Never a value. */
export interface EventDetails {
  /** VaultSecret / VaultCertificate: the Secret written. */
  secretName?: string;
  /** VaultCertificate: serial number of the certificate (hex, lower case). */
  serialNumber?: string;
  /** VaultCertificate: expiry of the certificate (RFC 3339). */
  notAfter?: string;
  /** VaultCertificate: revision of the certificate (1 for the first). */
  revision?: number;
  /** SecretRotation: the backend and path rotated, and the version written. */
  backend?: string;
  path?: string;
  version?: string;
}

/** What the operator reports; `notify()` adds the id and the time. */
export interface LifecycleEventInput {
  type: LifecycleEventType;
  resource: {
    apiVersion?: string;
    kind: string;
    namespace: string;
    name: string;
    uid?: string;
  };
  /** CamelCase reason, the same as the Kubernetes Event's (e.g. SecretCreated, Renewed). */
  reason: string;
  message: string;
  details?: EventDetails;
  /** A stable id for an event that may be reported again (certificate_expiring after a restart). */
  id?: string;
}

/** The JSON body of a delivery. */
export interface LifecycleEvent {
  id: string;
  type: LifecycleEventType;
  /** When it happened, RFC 3339 with milliseconds. */
  time: string;
  resource: LifecycleEventInput['resource'];
  reason: string;
  message: string;
  details: EventDetails;
}

const DETAIL_KEYS = [
  'secretName',
  'serialNumber',
  'notAfter',
  'revision',
  'backend',
  'path',
  'version',
] as const satisfies readonly (keyof EventDetails)[];

/** Builds the event: a fresh id (unless given), the time, and only the fields listed above. */
export function buildLifecycleEvent(input: LifecycleEventInput, now: number): LifecycleEvent {
  const r = input.resource;
  const details: EventDetails = {};
  for (const k of DETAIL_KEYS) {
    const v = input.details?.[k];
    if (typeof v === 'string' || typeof v === 'number') (details as Record<string, unknown>)[k] = v;
  }
  return {
    id: input.id ?? randomUUID(),
    type: input.type,
    time: new Date(now).toISOString(),
    resource: {
      ...(r.apiVersion !== undefined && { apiVersion: r.apiVersion }),
      kind: r.kind,
      namespace: r.namespace,
      name: r.name,
      ...(r.uid !== undefined && { uid: r.uid }),
    },
    reason: String(input.reason).slice(0, 128),
    message: cut(String(input.message), MAX_MESSAGE, '...'),
    details,
  };
}

/**
 * An id derived from `name`: the same name always gives the same id, so a receiver drops an
 * event the operator reports again after a restart. UUID-shaped (RFC 9562 version 8).
 */
export function stableEventId(name: string): string {
  const b = createHash('sha256').update(name).digest().subarray(0, 16);
  b[6] = (b[6]! & 0x0f) | 0x80;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const hex = b.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
