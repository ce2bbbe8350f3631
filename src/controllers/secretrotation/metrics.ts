// Metrics of rotations: a narrow sink and its prom-client implementation (bounded labels).
import { Counter, type Registry } from 'prom-client';

export type RotationOutcome = 'Succeeded' | 'Failed' | 'RolledBack';

export interface RotationMetrics {
  /** vaultsync_secret_rotations_total{outcome}: rotations that rolled out (Succeeded), failed, or were rolled back. */
  rotation(outcome: RotationOutcome): void;
  /** vaultsync_secret_rotation_writes_total{purpose}: backend versions written (rotate, retire). */
  write(purpose: 'rotate' | 'retire' | 'rollback'): void;
}

export const noopRotationMetrics: RotationMetrics = { rotation() {}, write() {} };

export function createRotationMetrics(registry: Registry): RotationMetrics {
  const rotations = new Counter({
    name: 'vaultsync_secret_rotations_total',
    help: 'SecretRotation rotations by outcome: Succeeded (written and rolled out), Failed, or RolledBack (not ready in time, previous value written back).',
    labelNames: ['outcome'] as const,
    registers: [registry],
  });
  const writes = new Counter({
    name: 'vaultsync_secret_rotation_writes_total',
    help: 'Backend versions written by SecretRotations: rotate (new values), retire (previous values dropped) or rollback (previous or earlier values written back).',
    labelNames: ['purpose'] as const,
    registers: [registry],
  });
  for (const outcome of ['Succeeded', 'Failed', 'RolledBack']) rotations.inc({ outcome }, 0);
  for (const purpose of ['rotate', 'retire', 'rollback']) writes.inc({ purpose }, 0);
  return {
    rotation(outcome) {
      try {
        rotations.inc({ outcome });
      } catch {
        // never fail a reconcile for a metric
      }
    },
    write(purpose) {
      try {
        writes.inc({ purpose });
      } catch {
        // never fail a reconcile for a metric
      }
    },
  };
}
