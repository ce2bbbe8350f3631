// In-process memory of the SecretRotation controller. None of it is needed for correctness after
// a restart: it saves repeated asks (restarts, refreshes, backend reads) and retries.

/** A failure that needs a person, and what must change before it is tried again early. */
export interface Hold {
  at: number;
  generation: number | undefined;
  token: string | undefined;
}

export class RotationMemory {
  /** Rotation key → version → workloads already asked to restart for it. */
  readonly requested = new Map<string, { version: string; keys: Set<string> }>();
  /** Rotation key → when its readers were last asked to refresh. */
  readonly refreshedAt = new Map<string, number>();
  /** Rotation key → when a rotation last failed for a user's reason (no retry before the delay). */
  readonly failedAt = new Map<string, number>();
  /** Rotation key → newer reader version already checked for a rollback written before a restart. */
  readonly rollbackChecked = new Map<string, string>();
  /**
   * Rotation key → a failure that needs a person (invalid spec, a refused status write): no
   * retry before the user-error delay unless the spec or the rotate-now token changes.
   */
  readonly held = new Map<string, Hold>();

  forget(key: string): void {
    this.requested.delete(key);
    this.refreshedAt.delete(key);
    this.failedAt.delete(key);
    this.rollbackChecked.delete(key);
    this.held.delete(key);
  }

  /** The workloads already asked to restart for `version` of this rotation (a new set for a new version). */
  requestedFor(key: string, version: string): Set<string> {
    const known = this.requested.get(key);
    if (known?.version === version) return known.keys;
    const keys = new Set<string>();
    this.requested.set(key, { version, keys });
    return keys;
  }

  /** Is a refresh of the rotation's readers due (none asked within `everyMs`)? Marks it asked when so. */
  refreshDue(key: string, now: number, everyMs: number): boolean {
    if (now - (this.refreshedAt.get(key) ?? 0) < everyMs) return false;
    this.refreshedAt.set(key, now);
    return true;
  }

  /** Time left to wait on a held failure (≤ 0: try now); the hold is lifted by a new spec or rotate-now token. */
  holdLeft(key: string, current: Omit<Hold, 'at'>, now: number, delayMs: number): number {
    const held = this.held.get(key);
    if (!held || held.generation !== current.generation || held.token !== current.token) return 0;
    return held.at + delayMs - now;
  }
}
