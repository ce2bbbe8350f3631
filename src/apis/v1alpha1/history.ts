// status.history of VaultSecrets and SecretRotations: how long it is (spec.historyLimit), what a
// VaultSecret's entry says (when the synced data changed, what caused it, the source versions and
// the MAC of the data — never values), and what caused a change.
import { Type } from '@sinclair/typebox';
import type { Static } from '@sinclair/typebox';
import { StringEnum, StringMap, Timestamp } from './common.ts';

/** Entries kept when spec.historyLimit is left out, and the most it may ask for. */
export const HISTORY_LIMIT = { default: 10, max: 50 } as const;

/** Source versions one entry records; a VaultSecret reading more records the first (by path) and a count. */
export const HISTORY_MAX_SOURCES = 16;

/**
 * What made the operator read the data that changed. FirstSync: the first read. SpecChanged: the
 * spec changed. Refresh: refreshInterval elapsed. Retry: read again after a failure. SyncNow: the
 * vaultsync.io/sync-now annotation (or the API's sync). Rotation / Rollback: a SecretRotation
 * wrote the path. SecretDrift: the Secret was edited or deleted and the read found new data too.
 */
export const HISTORY_TRIGGERS = [
  'FirstSync',
  'SpecChanged',
  'Refresh',
  'Retry',
  'SyncNow',
  'Rotation',
  'Rollback',
  'SecretDrift',
] as const;
export type HistoryTrigger = (typeof HISTORY_TRIGGERS)[number];
/** Why a SecretRotation asks the VaultSecrets reading its path to read it now. */
export type RefreshCause = Extract<HistoryTrigger, 'Rotation' | 'Rollback'>;

/** spec.historyLimit of either kind. */
export function HistoryLimit(what: string) {
  return Type.Integer({
    description:
      `How many ${what} status.history keeps, newest first: 0 keeps none (and clears it), at most ` +
      `${HISTORY_LIMIT.max}. Default: ${HISTORY_LIMIT.default}.`,
    minimum: 0,
    maximum: HISTORY_LIMIT.max,
  });
}

export const VaultSecretHistoryEntrySchema = Type.Object(
  {
    time: Timestamp('When the Secret was written with the changed data.'),
    trigger: StringEnum([...HISTORY_TRIGGERS], {
      description:
        'What made the operator read the changed data: FirstSync, SpecChanged, Refresh, Retry, SyncNow, ' +
        'Rotation, Rollback or SecretDrift.',
    }),
    mac: Type.String({
      description: 'Keyed HMAC of the data written (as status.secretMAC then); never the values.',
      maxLength: 256,
    }),
    sourceVersions: Type.Optional(
      StringMap('Version of each remote secret read, by backend path (at most 16, the first by path).', {
        maxProperties: HISTORY_MAX_SOURCES,
      }),
    ),
    omittedSources: Type.Optional(
      Type.Integer({
        description: 'How many more remote secrets were read than sourceVersions lists.',
        minimum: 1,
      }),
    ),
  },
  { description: 'One change of the synced data.' },
);
export type VaultSecretHistoryEntry = Static<typeof VaultSecretHistoryEntrySchema>;

export const VaultSecretHistorySchema = Type.Array(VaultSecretHistoryEntrySchema, {
  description:
    'The latest changes of the synced data, newest first (spec.historyLimit). A read that changes ' +
    'nothing adds nothing.',
  maxItems: HISTORY_LIMIT.max,
});
