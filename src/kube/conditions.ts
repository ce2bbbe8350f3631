// metav1.Condition helpers. All pure: they return new lists and never mutate their input,
// so a reconcile can compare the old and new status and write only when they differ.

export type ConditionStatus = 'True' | 'False' | 'Unknown';

export interface Condition {
  type: string;
  status: ConditionStatus;
  /** CamelCase, machine-readable. */
  reason: string;
  message: string;
  observedGeneration?: number;
  /** RFC 3339, seconds precision (metav1.Time). Changes only when `status` changes. */
  lastTransitionTime: string;
}

/** A condition to set; lastTransitionTime is filled in by setCondition. */
export type ConditionInput = Omit<Condition, 'lastTransitionTime'>;

/** metav1.Time format: RFC 3339 in UTC with whole seconds. */
export function formatTime(now: Date | number): string {
  const d = typeof now === 'number' ? new Date(now) : now;
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/**
 * Returns a new list with `cond` set. An existing condition of the same type keeps its
 * position and its lastTransitionTime unless its status changes; reason, message and
 * observedGeneration are always taken from `cond`. New conditions are appended.
 */
export function setCondition(
  list: readonly Condition[] | undefined,
  cond: ConditionInput,
  now: Date | number,
): Condition[] {
  const current = list ?? [];
  const existing = current.find((c) => c.type === cond.type);
  const lastTransitionTime =
    existing && existing.status === cond.status ? existing.lastTransitionTime : formatTime(now);
  const next: Condition = { ...withoutUndefined(cond), lastTransitionTime };
  return existing
    ? current.map((c) => (c.type === cond.type ? next : { ...c }))
    : [...current.map((c) => ({ ...c })), next];
}

export function removeCondition(list: readonly Condition[] | undefined, type: string): Condition[] {
  return (list ?? []).filter((c) => c.type !== type).map((c) => ({ ...c }));
}

export function getCondition(list: readonly Condition[] | undefined, type: string): Condition | undefined {
  return list?.find((c) => c.type === type);
}

export function isTrue(list: readonly Condition[] | undefined, type: string): boolean {
  return getCondition(list, type)?.status === 'True';
}

export function isFalse(list: readonly Condition[] | undefined, type: string): boolean {
  return getCondition(list, type)?.status === 'False';
}

/** Same conditions with the same fields (including times and generation), in any order. */
export function conditionsEqual(
  a: readonly Condition[] | undefined,
  b: readonly Condition[] | undefined,
): boolean {
  const left = a ?? [];
  const right = b ?? [];
  if (left.length !== right.length) return false;
  if (!right.every((y) => left.some((x) => x.type === y.type))) return false;
  return left.every((x) => {
    const y = right.find((c) => c.type === x.type);
    return (
      !!y &&
      x.status === y.status &&
      x.reason === y.reason &&
      x.message === y.message &&
      x.observedGeneration === y.observedGeneration &&
      x.lastTransitionTime === y.lastTransitionTime
    );
  });
}

function withoutUndefined(cond: ConditionInput): ConditionInput {
  const out = { ...cond };
  if (out.observedGeneration === undefined) delete out.observedGeneration;
  return out;
}
