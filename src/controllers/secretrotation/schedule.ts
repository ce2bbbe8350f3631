// When a SecretRotation is due. Pure: every function takes the times it needs.
// `schedule` is a five-field cron expression read in `timeZone` (croner: day-of-month and
// day-of-week are OR-ed as in Vixie cron; a time that a DST change skips runs at the first valid
// time after it, a repeated one runs once); `interval` counts from the previous rotation.
import { Cron } from 'croner';
import { SECRET_ROTATION_DEFAULTS, parseDuration } from '../../apis/v1alpha1/index.ts';
import type { SecretRotationSpec } from '../../apis/v1alpha1/index.ts';

/** The cron expression as croner reads it, or an error message naming the problem. */
export function compileSchedule(spec: Pick<SecretRotationSpec, 'schedule' | 'timeZone'>): Cron {
  return new Cron(spec.schedule ?? '', {
    timezone: spec.timeZone ?? SECRET_ROTATION_DEFAULTS.timeZone,
    paused: true,
    mode: '5-part',
  });
}

/**
 * What croner refuses in a schedule the CRD's pattern lets through (a range such as 5-1), or
 * undefined. Never throws: the reconciler reports it as InvalidSchedule.
 */
export function scheduleError(spec: Pick<SecretRotationSpec, 'schedule' | 'timeZone'>): string | undefined {
  if (spec.schedule === undefined) return undefined;
  try {
    compileSchedule(spec);
    return undefined;
  } catch (err) {
    const why = err instanceof Error ? err.message : 'not a valid cron expression';
    return `schedule ${JSON.stringify(spec.schedule)} (time zone ${spec.timeZone ?? SECRET_ROTATION_DEFAULTS.timeZone}) cannot be read: ${why}`;
  }
}

/**
 * The first rotation time strictly after `after` (epoch ms): the next cron time, or `after` plus
 * the interval. Undefined when a cron expression never fires again (e.g. 30 February).
 */
export function nextRotationAfter(
  spec: Pick<SecretRotationSpec, 'schedule' | 'interval' | 'timeZone'>,
  after: number,
): number | undefined {
  if (spec.interval !== undefined) return after + Math.max(parseDuration(spec.interval), 60_000);
  return compileSchedule(spec).nextRun(new Date(after))?.getTime() ?? undefined;
}

export interface DueInput {
  spec: Pick<SecretRotationSpec, 'schedule' | 'interval' | 'timeZone' | 'suspend'>;
  /** status.lastRotationTime, epoch ms. */
  lastRotation?: number;
  /** metadata.creationTimestamp, epoch ms: the schedule of a never-rotated resource counts from here. */
  created: number;
  /** The backend lacks the path or one of the generated keys: rotate at once (not when suspended). */
  missingValues: boolean;
  /** The rotate-now annotation holds a value not answered yet. */
  manual: boolean;
  now: number;
}

export type DueDecision =
  | { due: true; why: 'Manual' | 'Initial' | 'Scheduled'; next?: number }
  | { due: false; why: 'Suspended' | 'NotYet' | 'Never'; next?: number };

/** Is a rotation due now, and when is the next one? */
export function rotationDue(input: DueInput): DueDecision {
  const { spec, now } = input;
  const next = nextRotationAfter(spec, input.lastRotation ?? input.created);
  if (input.manual) return { due: true, why: 'Manual', ...(next !== undefined && { next }) };
  if (spec.suspend) return { due: false, why: 'Suspended' };
  if (input.missingValues) return { due: true, why: 'Initial', ...(next !== undefined && { next }) };
  if (next === undefined) return { due: false, why: 'Never' };
  // A time missed while the operator was down is caught up once, not once per missed time.
  return next <= now ? { due: true, why: 'Scheduled', next } : { due: false, why: 'NotYet', next };
}
