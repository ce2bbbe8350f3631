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
  DOT_SEGMENT_PATTERN,
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
import { Re2Pattern } from './re2.ts';
import { HistoryLimit, VaultSecretHistorySchema } from './history.ts';

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

/** dataFrom[].find: how many found secrets are read by default, and at most. */
export const FIND_DEFAULTS = { maxItems: 100 } as const;
export const FIND_MAX_ITEMS = 1000;

/** A path prefix for find: relative like a path, may end with '/' (a folder), no '.' or '..' segments. */
const FIND_PREFIX_PATTERN = '^[^/]+(/[^/]+)*/?$';

const ExtractSchema = Type.Object(
  {
    path: BackendPath('Path of the remote secret whose keys are all copied, e.g. shop/common.'),
    version: Type.Optional(
      Type.String({
        description: 'Version of the remote secret to read (quote numbers: "3"). When omitted, the latest.',
        minLength: 1,
        maxLength: 64,
      }),
    ),
  },
  {
    description:
      'Copies every key of a remote secret into the target Secret. Keys listed in data take precedence; ' +
      'when two extract entries share a key, the later entry wins.',
  },
);

const FindSchema = Type.Object(
  {
    path: Type.Optional(
      Type.String({
        description:
          "Path prefix to look under: shop/ for a folder, shop/db for names that start so. Default: everything the backend's credentials can list (tenancy rules still apply).",
        minLength: 1,
        maxLength: 512,
        'x-kubernetes-validations': [
          cel<string>(
            `self.matches('${FIND_PREFIX_PATTERN}') && !self.matches('${DOT_SEGMENT_PATTERN}')`,
            "must be a relative path prefix such as shop/ or shop/db: no leading '/', no empty, '.' or '..' segments",
            (s) => new RegExp(FIND_PREFIX_PATTERN).test(s) && !new RegExp(DOT_SEGMENT_PATTERN).test(s),
          ),
        ],
      }),
    ),
    name: Type.Optional(
      Type.Object(
        {
          regexp: Re2Pattern(
            'RE2 regular expression the whole path of a found secret must match, e.g. shop/(db|cache)-[a-z]+ (unlike External Secrets Operator, it is anchored: write .*db.* for a part).',
          ),
        },
        { description: 'Select found secrets by their path.' },
      ),
    ),
    tags: Type.Optional(
      StringMap(
        'Tags every found secret must carry, all of them, key and value: AWS and Azure tags, Google and ' +
          'kubernetes labels, Vault KV v2 custom_metadata.',
        { maxProperties: 16 },
      ),
    ),
    maxItems: Type.Optional(
      Type.Integer({
        description: `At most this many secrets are read; when more match, nothing is written and Ready is False with reason TooManyMatches. Default: ${FIND_DEFAULTS.maxItems}, at most ${FIND_MAX_ITEMS}.`,
        minimum: 1,
        maximum: FIND_MAX_ITEMS,
      }),
    ),
    merge: Type.Optional(
      Type.Boolean({
        description:
          "How found secrets become keys. false (default, as External Secrets Operator): one key per secret, its path with '/' replaced by '_' (shop/db → shop_db), holding the whole secret (its only value, or all its keys as a JSON object). " +
          'true: every key of every found secret, as extract copies them.',
      }),
    ),
  },
  {
    description:
      'Every remote secret under a path prefix, whose path matches a regular expression, or that carries ' +
      "tags. Found paths are checked against the backend's tenancy rules before any is read; a key two " +
      'sources would both write is an error (KeyConflict) naming both.',
    'x-kubernetes-validations': [
      cel<{ path?: string; name?: unknown; tags?: Record<string, string> }>(
        'has(self.path) || has(self.name) || (has(self.tags) && size(self.tags) > 0)',
        'find needs at least one of path, name.regexp or tags',
        (s) => s.path !== undefined || s.name !== undefined || Object.keys(s.tags ?? {}).length > 0,
      ),
    ],
  },
);

const RewriteSchema = Type.Object(
  {
    regexp: Type.Object(
      {
        source: Re2Pattern('RE2 regular expression matched against each key name, e.g. ^shop_(.*)$.'),
        target: Type.String({
          description:
            'Replacement for every match, with Go regexp expansion: $1 or ${1} a group by number, ${name} by name, $$ a dollar sign.',
          maxLength: 253,
        }),
      },
      { description: 'Replace every match of source in a key name by target.' },
    ),
  },
  { description: 'One rewrite of key names.' },
);

const DataFromItemSchema = Type.Object(
  {
    extract: Type.Optional(ExtractSchema),
    find: Type.Optional(FindSchema),
    rewrite: Type.Optional(
      Type.Array(RewriteSchema, {
        description:
          "Rewrites of this entry's key names, in order, each applied to what the one before produced; a key no " +
          'rewrite matches stays as it is. The result must be a valid Secret key.',
        maxItems: 8,
      }),
    ),
  },
  {
    description: 'Remote secrets whose keys are all copied: one (extract) or those a search finds (find).',
    'x-kubernetes-validations': [
      cel<{ extract?: unknown; find?: unknown }>(
        'has(self.extract) != has(self.find)',
        'set exactly one of extract (one remote secret) or find (a search)',
        (s) => (s.extract !== undefined) !== (s.find !== undefined),
      ),
    ],
  },
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
        description:
          'Remote secrets whose keys are all copied into the target Secret, in order, before the keys of data.',
        maxItems: 16,
        'x-kubernetes-validations': [
          cel<{ find?: { maxItems?: number } }[]>(
            `self.map(x, has(x.find) ? (has(x.find.maxItems) ? x.find.maxItems : ${FIND_DEFAULTS.maxItems}) : 0).sum() <= ${FIND_MAX_ITEMS}`,
            `the finds of one VaultSecret may read at most ${FIND_MAX_ITEMS} secrets together (the sum of their maxItems, ${FIND_DEFAULTS.maxItems} each by default): status lists every one`,
            (s) =>
              s.reduce((n, x) => n + (x.find ? (x.find.maxItems ?? FIND_DEFAULTS.maxItems) : 0), 0) <=
              FIND_MAX_ITEMS,
          ),
        ],
      }),
    ),
    target: Type.Optional(TargetSchema),
    rolloutRestartTargets: Type.Optional(RolloutRestartTargetsSchema),
    historyLimit: Type.Optional(HistoryLimit('changes of the synced data')),
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
    lastRefreshTime: Type.Optional(
      Timestamp(
        'When the backend was last read with news to record (a read that changes nothing writes nothing; the operator reads again at least once per refreshInterval).',
      ),
    ),
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
    history: Type.Optional(VaultSecretHistorySchema),
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
export type VaultSecretFind = NonNullable<VaultSecretDataFromItem['find']>;
export type VaultSecretRewrite = NonNullable<VaultSecretDataFromItem['rewrite']>[number];
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
    {
      name: 'Changed',
      type: 'date',
      jsonPath: '.status.history[0].time',
      description: 'When the synced data last changed (the newest status.history entry).',
    },
    AGE_COLUMN,
  ],
  spec: VaultSecretSpecSchema,
  status: VaultSecretStatusSchema,
};
