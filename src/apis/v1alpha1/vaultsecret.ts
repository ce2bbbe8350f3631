// VaultSecret: fetch values from a backend and keep a Kubernetes Secret in sync.
import { Type } from '@sinclair/typebox';
import type { Static } from '@sinclair/typebox';
import type { V1ObjectMeta } from '@kubernetes/client-node';
import {
  AGE_COLUMN,
  BackendName,
  BackendPath,
  CATEGORIES,
  Conditions,
  DnsSubdomain,
  Duration,
  ObservedGeneration,
  READY_COLUMNS,
  RolloutRestartTargetsSchema,
  SECRET_KEY_PATTERN,
  StringEnum,
  StringMap,
  Timestamp,
  cel,
  durationAtLeast,
} from './common.ts';
import type { KindDefinition } from './common.ts';

/** Effective values of optional fields; the operator applies them, the schema has no defaults. */
export const VAULT_SECRET_DEFAULTS = {
  refreshInterval: '1h',
  targetType: 'Opaque',
  creationPolicy: 'Owner',
  deletionPolicy: 'Retain',
} as const;

export const CREATION_POLICIES = ['Owner', 'Orphan', 'Merge'] as const;
export const DELETION_POLICIES = ['Retain', 'Delete'] as const;

const RemoteRefSchema = Type.Object(
  {
    path: BackendPath(
      'Path of the remote secret in the backend, relative to its mount or prefix (for Vault KV v2: shop/db).',
    ),
    property: Type.Optional(
      Type.String({
        description:
          'Key inside the remote secret to read. When omitted, the whole remote secret is used: ' +
          'its only value if it has one key, otherwise its keys and values encoded as a JSON object.',
        minLength: 1,
        maxLength: 256,
      }),
    ),
    version: Type.Optional(
      Type.String({
        description:
          'Version of the remote secret to read (quote numbers: "3"). When omitted, the latest version is read ' +
          'and followed on every refresh.',
        minLength: 1,
        maxLength: 64,
      }),
    ),
  },
  { description: 'Where the value comes from in the backend.' },
);

const DataItemSchema = Type.Object(
  {
    secretKey: Type.String({
      description: "Key in the target Secret's data. Letters, digits, '-', '_' and '.' only.",
      minLength: 1,
      maxLength: 253,
      pattern: SECRET_KEY_PATTERN,
    }),
    remoteRef: RemoteRefSchema,
  },
  { description: 'One key of the target Secret and the remote value it holds.' },
);

const DataFromItemSchema = Type.Object(
  {
    extract: Type.Object(
      {
        path: BackendPath('Path of the remote secret whose keys are all copied, e.g. shop/common.'),
        version: Type.Optional(
          Type.String({
            description:
              'Version of the remote secret to read (quote numbers: "3"). When omitted, the latest.',
            minLength: 1,
            maxLength: 64,
          }),
        ),
      },
      {
        description:
          'Copies every key of a remote secret into the target Secret. Keys listed in data take precedence; ' +
          'when two dataFrom entries share a key, the later entry wins.',
      },
    ),
  },
  { description: 'A remote secret whose keys are all copied.' },
);

interface TargetLike {
  creationPolicy?: string;
  deletionPolicy?: string;
}

/** Longest template string the API server admits (the operator bounds the output too). */
export const TEMPLATE_MAX_LENGTH = 32768;

const TargetSchema = Type.Object(
  {
    name: Type.Optional(
      DnsSubdomain(
        'Name of the Secret to write, in the namespace of the VaultSecret. Default: metadata.name.',
      ),
    ),
    type: Type.Optional(
      Type.String({
        description: `Type of the Secret, e.g. Opaque, kubernetes.io/tls or kubernetes.io/dockerconfigjson. Default: ${VAULT_SECRET_DEFAULTS.targetType}.`,
        minLength: 1,
        maxLength: 253,
      }),
    ),
    creationPolicy: Type.Optional(
      StringEnum([...CREATION_POLICIES], {
        description:
          'Who owns the Secret. Owner: the operator creates it, marks it as managed and refuses to take over ' +
          'an existing Secret it does not manage. Orphan: the operator creates and updates it but does not mark ' +
          'it as owned by the VaultSecret. Merge: the Secret must already exist; the operator writes only its ' +
          `own keys into it and leaves the others alone. Default: ${VAULT_SECRET_DEFAULTS.creationPolicy}.`,
      }),
    ),
    deletionPolicy: Type.Optional(
      StringEnum([...DELETION_POLICIES], {
        description:
          'What happens to the Secret when the VaultSecret is deleted. Retain: it stays, with its last data. ' +
          'Delete: it is deleted (with creationPolicy Merge, only the keys this VaultSecret wrote are removed). ' +
          `Not allowed with creationPolicy Orphan. Default: ${VAULT_SECRET_DEFAULTS.deletionPolicy}.`,
      }),
    ),
    allowEmpty: Type.Optional(
      Type.Boolean({
        description:
          'Allow a read that leaves the Secret with none of the keys this VaultSecret wrote (e.g. the remote ' +
          'secret is now {}). Default false: such a read is refused (Ready=False, reason UnsafeShrink) and the ' +
          'Secret keeps its data. A read that removes more than half of the keys is refused the same way; ' +
          'the annotation vaultsync.io/allow-shrink with a new value lets the next read through once.',
      }),
    ),
    labels: Type.Optional(StringMap('Labels added to the Secret.')),
    annotations: Type.Optional(StringMap('Annotations added to the Secret.')),
    template: Type.Optional(
      Type.Object(
        {
          data: Type.Optional(
            Type.Record(
              Type.String(),
              Type.String({
                description: `A template, at most ${TEMPLATE_MAX_LENGTH} characters.`,
                maxLength: TEMPLATE_MAX_LENGTH,
              }),
              {
                description:
                  'Secret keys whose value is rendered from a logic-less template: {{name}} is replaced by the fetched ' +
                  'value with that secretKey (or dataFrom key). When templates are set, only these keys are written ' +
                  'to the Secret; the fetched values are inputs. Keys must be valid Secret keys. Per Secret, the ' +
                  'templates may use at most 1000 placeholders and render at most 1 MiB; beyond that the ' +
                  'VaultSecret is Ready=False with reason TemplateFailed and nothing is rendered.',
                maxProperties: 128,
              },
            ),
          ),
        },
        { description: 'Builds the Secret data from templates instead of copying the fetched values.' },
      ),
    ),
  },
  {
    description: 'The Kubernetes Secret this VaultSecret writes.',
    'x-kubernetes-validations': [
      cel<TargetLike>(
        "!(has(self.creationPolicy) && self.creationPolicy == 'Orphan' && has(self.deletionPolicy) && self.deletionPolicy == 'Delete')",
        'deletionPolicy Delete cannot be used with creationPolicy Orphan: an orphaned Secret is not owned by the VaultSecret; use deletionPolicy Retain or creationPolicy Owner',
        (s) => !(s.creationPolicy === 'Orphan' && s.deletionPolicy === 'Delete'),
        { fieldPath: '.deletionPolicy' },
      ),
    ],
  },
);

interface SpecLike {
  data?: unknown[];
  dataFrom?: unknown[];
}

export const VaultSecretSpecSchema = Type.Object(
  {
    backend: BackendName('Name of a backend in the operator configuration, e.g. vault.'),
    refreshInterval: Type.Optional(
      Duration(
        'How often the backend is read again, as a duration (30s, 5m, 1h); refreshed in the last tenth of the interval, together with the resources reading the same paths (one backend read for all of them). ' +
          `0 syncs once and never refreshes. Default: ${VAULT_SECRET_DEFAULTS.refreshInterval}.`,
        [durationAtLeast('10s', 'refreshInterval must be 0 (sync once) or at least 10s', true)],
      ),
    ),
    data: Type.Optional(
      Type.Array(DataItemSchema, {
        description: 'Keys of the target Secret, each read from one remote value.',
        maxItems: 128,
        'x-kubernetes-validations': [
          cel<{ secretKey: string }[]>(
            'self.all(x, self.exists_one(y, y.secretKey == x.secretKey))',
            'secretKey must be unique within data: each key of the Secret can have only one source',
            (s) => new Set(s.map((x) => x.secretKey)).size === s.length,
          ),
        ],
      }),
    ),
    dataFrom: Type.Optional(
      Type.Array(DataFromItemSchema, {
        description: 'Remote secrets whose keys are all copied into the target Secret.',
        maxItems: 16,
      }),
    ),
    target: Type.Optional(TargetSchema),
    rolloutRestartTargets: Type.Optional(RolloutRestartTargetsSchema),
  },
  {
    description: 'Desired state of the VaultSecret.',
    'x-kubernetes-validations': [
      cel<SpecLike>(
        '(has(self.data) && size(self.data) > 0) || (has(self.dataFrom) && size(self.dataFrom) > 0)',
        'data and dataFrom are both empty: list at least one key in data or one remote secret in dataFrom',
        (s) => (s.data?.length ?? 0) > 0 || (s.dataFrom?.length ?? 0) > 0,
      ),
    ],
  },
);

export const VaultSecretStatusSchema = Type.Object(
  {
    conditions: Type.Optional(
      Conditions(
        'Current state. Ready is True when the Secret holds the data of the latest successful read; ' +
          'on a backend failure the Secret keeps its last good data and Ready turns False.',
      ),
    ),
    observedGeneration: Type.Optional(
      ObservedGeneration('The metadata.generation the status was computed for.'),
    ),
    lastSyncTime: Type.Optional(Timestamp('When the Secret was last written because its data changed.')),
    lastRefreshTime: Type.Optional(Timestamp('When the backend was last read successfully.')),
    syncNowHandled: Type.Optional(
      Type.String({
        description:
          'Digest (sha256:<base64url>) of the vaultsync.io/sync-now annotation value the last requested sync ' +
          'answered; the value itself is not copied. Setting the annotation to any other value asks for one ' +
          'more read of the backend now.',
        maxLength: 253,
      }),
    ),
    allowShrinkHandled: Type.Optional(
      Type.String({
        description:
          'Digest (sha256:<base64url>) of the vaultsync.io/allow-shrink annotation value the last successful ' +
          'read used up. A new value of the annotation lets one read remove more than half of the keys.',
        maxLength: 253,
      }),
    ),
    secretMAC: Type.Optional(
      Type.String({
        description:
          'Keyed HMAC of the data last written to the Secret; detects drift without storing values.',
        maxLength: 256,
      }),
    ),
    sourceVersions: Type.Optional(
      StringMap('Version of each remote secret last read, by backend path, e.g. {"shop/db": "3"}.'),
    ),
    syncedResourceVersion: Type.Optional(
      Type.String({
        description: 'metadata.resourceVersion of the Secret after the operator last wrote it.',
        maxLength: 64,
      }),
    ),
  },
  { description: 'Observed state of the VaultSecret, written by the operator.' },
);

export type VaultSecretSpec = Static<typeof VaultSecretSpecSchema>;
export type VaultSecretStatus = Static<typeof VaultSecretStatusSchema>;
export type VaultSecretTarget = NonNullable<VaultSecretSpec['target']>;
export type VaultSecretDataItem = NonNullable<VaultSecretSpec['data']>[number];
export type VaultSecretDataFromItem = NonNullable<VaultSecretSpec['dataFrom']>[number];
export type CreationPolicy = (typeof CREATION_POLICIES)[number];
export type DeletionPolicy = (typeof DELETION_POLICIES)[number];

export interface VaultSecret {
  apiVersion: 'vaultsync.io/v1alpha1';
  kind: 'VaultSecret';
  metadata: V1ObjectMeta;
  spec: VaultSecretSpec;
  status?: VaultSecretStatus;
}

export const vaultSecretDefinition: KindDefinition<
  typeof VaultSecretSpecSchema,
  typeof VaultSecretStatusSchema
> = {
  kind: 'VaultSecret',
  plural: 'vaultsecrets',
  singular: 'vaultsecret',
  listKind: 'VaultSecretList',
  shortNames: ['vsecret'],
  categories: CATEGORIES,
  description:
    'VaultSecret fetches values from a backend named in the operator configuration and keeps a Kubernetes ' +
    'Secret in sync with them. Secret values never appear in its status, events or logs.',
  printerColumns: [
    ...READY_COLUMNS,
    {
      name: 'Backend',
      type: 'string',
      jsonPath: '.spec.backend',
      description: 'Backend the values come from.',
    },
    {
      name: 'Last Sync',
      type: 'date',
      jsonPath: '.status.lastSyncTime',
      description: 'When the Secret was last written.',
    },
    AGE_COLUMN,
  ],
  spec: VaultSecretSpecSchema,
  status: VaultSecretStatusSchema,
};
