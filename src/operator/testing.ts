// Fixtures for the operator's unit tests (left out of the build).
import type { LeaderElectionConfig } from '../config/index.ts';

/** The config's leader election defaults (15 s lease, 10 s renew deadline, 2 s retry), changed by `overrides`. */
export function electionConfig(overrides: Partial<LeaderElectionConfig> = {}): LeaderElectionConfig {
  return {
    enabled: true,
    leaseName: 'vaultsync-leader',
    leaseDuration: 15_000,
    renewDeadline: 10_000,
    retryPeriod: 2_000,
    ...overrides,
  };
}
