// SecretRotation: rotate a backend value on a schedule (generate → write → sync) and roll out or
// signal the workloads that use it.
import { Type } from '@sinclair/typebox';
import type { Static } from '@sinclair/typebox';
import type { V1ObjectMeta } from '@kubernetes/client-node';
import {
  AGE_COLUMN,
  BackendName,
  BackendPath,
  CATEGORIES,
  CRON_PATTERN,
  Conditions,
  Duration,
  KEY_DEFAULTS,
  KeyAlgorithmSchema,
  KeySize,
  LabelSelectorSchema,
  ObservedGeneration,
  READY_COLUMNS,
  StringEnum,
  TIME_OF_DAY_PATTERN,
  TIME_ZONE_PATTERN,
  Timestamp,
  WorkloadReferences,
  cel,
  durationAtLeast,
  keySizeRules,
} from './common.ts';
import type { KindDefinition } from './common.ts';
import { HISTORY_LIMIT, HistoryLimit } from './history.ts';

export const GENERATOR_TYPES = ['password', 'randomBytes', 'uuid', 'keyPair'] as const;
export const BYTE_ENCODINGS = ['base64', 'hex'] as const;
export const ROTATION_STRATEGIES = ['Replace', 'TwoPhase'] as const;
export const RESTART_MODES = ['Restart', 'AnnotatePods'] as const;
export const WEEKDAYS = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'] as const;
export const ROTATION_PHASES = [
  'Idle',
  'Rotating',
  'RollingOut',
  'Retiring',
  'Failed',
  'RolledBack',
] as const;
export const ROTATION_OUTCOMES = ['Succeeded', 'Failed', 'RolledBack'] as const;

/** Effective values of optional fields; the operator applies them, the schema has no defaults. */
export const SECRET_ROTATION_DEFAULTS = {
  timeZone: 'UTC',
  strategy: 'Replace',
  previousValueRetention: '1h',
  rollbackOnFailure: false,
  suspend: false,
  password: { length: 32, lowercase: true, uppercase: true, digits: true, symbols: false },
  randomBytes: { length: 32, encoding: 'base64' },
  keyPair: { algorithm: KEY_DEFAULTS.algorithm, size: KEY_DEFAULTS.size },
  restart: {
    debounce: '10s',
    minInterval: '0s',
    maxUnavailableTargets: 1,
    readyTimeout: '10m',
    mode: 'Restart',
  },
} as const;

const D = SECRET_ROTATION_DEFAULTS;

interface GeneratorLike {
  type: string;
  length?: number;
  lowercase?: boolean;
  uppercase?: boolean;
  digits?: boolean;
  symbols?: boolean;
  exclude?: string;
  encoding?: string;
  algorithm?: string;
  size?: number;
}

const GeneratorSchema = Type.Object(
  {
    type: StringEnum([...GENERATOR_TYPES], {
      description:
        'What to generate. password: random characters. randomBytes: random bytes, encoded. uuid: a random ' +
        '(version 4) UUID. keyPair: a private key, PKCS#8 PEM, with its public key (PEM) beside it under <key>.pub.',
    }),
    length: Type.Optional(
      Type.Integer({
        description:
          `password: number of characters, 8 to 1024 (default ${D.password.length}). ` +
          `randomBytes: number of bytes before encoding, 1 to 1024 (default ${D.randomBytes.length}).`,
        minimum: 1,
        maximum: 1024,
      }),
    ),
    lowercase: Type.Optional(
      Type.Boolean({ description: `password: use lowercase letters. Default: ${D.password.lowercase}.` }),
    ),
    uppercase: Type.Optional(
      Type.Boolean({ description: `password: use uppercase letters. Default: ${D.password.uppercase}.` }),
    ),
    digits: Type.Optional(
      Type.Boolean({ description: `password: use digits. Default: ${D.password.digits}.` }),
    ),
    symbols: Type.Optional(
      Type.Boolean({
        description: `password: use punctuation symbols. Default: ${D.password.symbols} (values stay safe in URLs and shells).`,
      }),
    ),
    exclude: Type.Optional(
      Type.String({ description: 'password: characters never to use, e.g. "lI1O0".', maxLength: 256 }),
    ),
    encoding: Type.Optional(
      StringEnum([...BYTE_ENCODINGS], {
        description: `randomBytes: how the bytes are written, base64 or hex. Default: ${D.randomBytes.encoding}.`,
      }),
    ),
    algorithm: Type.Optional(
      KeyAlgorithmSchema(`keyPair: RSA, ECDSA or Ed25519. Default: ${D.keyPair.algorithm}.`),
    ),
    size: Type.Optional(
      KeySize(
        'keyPair: 2048, 3072 or 4096 for RSA (default 2048); 256 or 384 for ECDSA (default 256); not set for Ed25519.',
      ),
    ),
  },
  {
    description: 'How to generate one value.',
    'x-kubernetes-validations': [
      cel<GeneratorLike>(
        "self.type != 'password' || !has(self.length) || self.length >= 8",
        'a password must be at least 8 characters long: set length to 8 or more',
        (s) => s.type !== 'password' || s.length === undefined || s.length >= 8,
        { fieldPath: '.length' },
      ),
      cel<GeneratorLike>(
        "self.type in ['password', 'randomBytes'] || !has(self.length)",
        'length applies only to types password and randomBytes',
        (s) => ['password', 'randomBytes'].includes(s.type) || s.length === undefined,
        { fieldPath: '.length' },
      ),
      cel<GeneratorLike>(
        "self.type == 'password' || !(has(self.lowercase) || has(self.uppercase) || has(self.digits) || has(self.symbols) || has(self.exclude))",
        'lowercase, uppercase, digits, symbols and exclude apply only to type password',
        (s) =>
          s.type === 'password' ||
          [s.lowercase, s.uppercase, s.digits, s.symbols, s.exclude].every((v) => v === undefined),
      ),
      cel<GeneratorLike>(
        "self.type != 'password' || !(has(self.lowercase) && !self.lowercase && has(self.uppercase) && !self.uppercase && has(self.digits) && !self.digits && has(self.symbols) && !self.symbols)",
        'a password needs at least one character class: lowercase, uppercase, digits and symbols cannot all be false',
        (s) =>
          s.type !== 'password' ||
          !(s.lowercase === false && s.uppercase === false && s.digits === false && s.symbols === false),
      ),
      cel<GeneratorLike>(
        "self.type == 'randomBytes' || !has(self.encoding)",
        'encoding applies only to type randomBytes',
        (s) => s.type === 'randomBytes' || s.encoding === undefined,
        { fieldPath: '.encoding' },
      ),
      cel<GeneratorLike>(
        "self.type == 'keyPair' || !(has(self.algorithm) || has(self.size))",
        'algorithm and size apply only to type keyPair',
        (s) => s.type === 'keyPair' || (s.algorithm === undefined && s.size === undefined),
      ),
      ...keySizeRules,
    ],
  },
);

const RestartWindowSchema = Type.Object(
  {
    days: Type.Optional(
      Type.Array(
        StringEnum([...WEEKDAYS], { description: 'A day of the week: Mon, Tue, Wed, Thu, Fri, Sat or Sun.' }),
        {
          description: 'Days the window opens on (by its start time). Default: every day.',
          maxItems: 7,
          'x-kubernetes-list-type': 'set',
        },
      ),
    ),
    start: Type.String({
      description: 'Time of day the window opens, 24-hour HH:MM, e.g. "02:00" (quote it in YAML).',
      maxLength: 5,
      'x-kubernetes-validations': [timeOfDayRule()],
    }),
    end: Type.String({
      description: 'Time of day the window closes, HH:MM. Before start means the window ends the next day.',
      maxLength: 5,
      'x-kubernetes-validations': [timeOfDayRule()],
    }),
    timeZone: Type.Optional(
      timeZoneSchema('Time zone of start and end. Default: the timeZone of the rotation, else UTC.'),
    ),
  },
  {
    description: 'A period during which restarts may start.',
    'x-kubernetes-validations': [
      cel<{ start: string; end: string }>(
        'self.start != self.end',
        'start and end must differ; a window that crosses midnight ends before it starts, e.g. 22:00 to 02:00',
        (s) => s.start !== s.end,
      ),
    ],
  },
);

function timeOfDayRule() {
  return cel<string>(
    `self.matches('${TIME_OF_DAY_PATTERN}')`,
    'must be a time of day in 24-hour HH:MM format, from 00:00 to 23:59, e.g. "02:00"',
    (s) => new RegExp(TIME_OF_DAY_PATTERN).test(s),
  );
}

function timeZoneSchema(description: string) {
  return Type.String({ description, minLength: 1, maxLength: 64, pattern: TIME_ZONE_PATTERN });
}

interface SpecLike {
  schedule?: string;
  interval?: string;
  timeZone?: string;
  strategy?: string;
  previousValueRetention?: string;
  rollbackOnFailure?: boolean;
}

export const SecretRotationSpecSchema = Type.Object(
  {
    backend: BackendName(
      'Name of a backend in the operator configuration the value is written to, e.g. vault.',
    ),
    path: BackendPath('Path of the secret in the backend to write the generated values to, e.g. shop/db.'),
    schedule: Type.Optional(
      Type.String({
        description:
          'When to rotate, as a five-field cron expression: minute hour day-of-month month day-of-week, ' +
          'e.g. "0 3 * * 0" for 03:00 every Sunday. Set schedule or interval, not both.',
        maxLength: 128,
        'x-kubernetes-validations': [
          cel<string>(
            `self.matches('${CRON_PATTERN}')`,
            'must be a cron expression with 5 fields: minute hour day-of-month month day-of-week, e.g. "0 3 * * 0" (03:00 every Sunday)',
            (s) => new RegExp(CRON_PATTERN).test(s),
          ),
        ],
      }),
    ),
    interval: Type.Optional(
      Duration(
        'Rotate this long after the previous rotation, e.g. 720h. At least 1m. Set schedule or interval, not both.',
        [durationAtLeast('1m', 'interval must be at least 1m')],
      ),
    ),
    timeZone: Type.Optional(
      timeZoneSchema(
        `IANA time zone the schedule is read in, e.g. Europe/Berlin. Only with schedule. Default: ${D.timeZone}.`,
      ),
    ),
    generate: Type.Record(Type.String(), GeneratorSchema, {
      description:
        'Values to generate on each rotation, by key in the remote secret (and in Secrets synced from it). ' +
        'Keys must be valid Secret keys. Keys of the remote secret not listed here are kept.',
      maxProperties: 32,
      'x-kubernetes-validations': [
        cel<Record<string, unknown>>(
          'size(self) > 0',
          'generate is empty: name at least one key to generate, e.g. password: {type: password}',
          (s) => Object.keys(s).length > 0,
        ),
      ],
    }),
    strategy: Type.Optional(
      StringEnum([...ROTATION_STRATEGIES], {
        description:
          'Replace: the new value replaces the old one at once. TwoPhase: the previous value stays valid ' +
          'until every consumer has rolled out, then for previousValueRetention, and is retired after. ' +
          `Default: ${D.strategy}.`,
      }),
    ),
    consumers: Type.Optional(
      Type.Object(
        {
          targets: Type.Optional(WorkloadReferences('Workloads that use the value, by kind and name.')),
          selector: Type.Optional(LabelSelectorSchema),
        },
        {
          description:
            'Workloads that use the rotated value and are restarted or signalled after a rotation: the listed ' +
            'targets plus those the selector matches. When omitted, the workloads that reference a Secret synced ' +
            'from this path and carry the vaultsync.io/reload annotation.',
        },
      ),
    ),
    restart: Type.Optional(
      Type.Object(
        {
          debounce: Type.Optional(
            Duration(
              `Wait this long after a rotation for further changes before restarting. Default: ${D.restart.debounce}.`,
            ),
          ),
          minInterval: Type.Optional(
            Duration(
              `Minimum time between two restarts of the same workload. Default: ${D.restart.minInterval} (no minimum).`,
            ),
          ),
          maxUnavailableTargets: Type.Optional(
            Type.Integer({
              description: `How many workloads may be restarting at the same time. Default: ${D.restart.maxUnavailableTargets}.`,
              minimum: 1,
              maximum: 1000,
            }),
          ),
          readyTimeout: Type.Optional(
            Duration(
              'How long a restarted workload may take to become ready before the rotation is marked Failed ' +
                `(and, with TwoPhase, the previous value is kept). Default: ${D.restart.readyTimeout}.`,
            ),
          ),
          windows: Type.Optional(
            Type.Array(RestartWindowSchema, {
              description: 'Restarts start only inside one of these windows. Default: at any time.',
              maxItems: 16,
            }),
          ),
          mode: Type.Optional(
            StringEnum([...RESTART_MODES], {
              description:
                'Restart: rolling restart of the workload (pod template annotation). AnnotatePods: annotate the ' +
                `running pods instead, for applications that reload the value themselves. Default: ${D.restart.mode}.`,
            }),
          ),
        },
        { description: 'How consumers are restarted after a rotation.' },
      ),
    ),
    suspend: Type.Optional(
      Type.Boolean({
        description: 'Pause scheduled rotations; a rotation in progress completes. Default: false.',
      }),
    ),
    previousValueRetention: Type.Optional(
      Duration(
        'TwoPhase only: how long the previous value stays valid after all consumers rolled out. ' +
          `Default: ${D.previousValueRetention}.`,
      ),
    ),
    rollbackOnFailure: Type.Optional(
      Type.Boolean({
        description:
          'TwoPhase only: when the consumers do not become ready within restart.readyTimeout, write the ' +
          'previous value back as the current value (a new backend version, check-and-set), let the ' +
          'VaultSecrets reading the path sync it and restart the consumers onto it; the rotation becomes ' +
          'RolledBack. When false, the previous value is only kept beside the new one and the rotation is ' +
          `Failed. Default: ${D.rollbackOnFailure}.`,
      }),
    ),
    historyLimit: Type.Optional(HistoryLimit('rotations')),
  },
  {
    description: 'Desired state of the SecretRotation.',
    'x-kubernetes-validations': [
      cel<SpecLike>(
        'has(self.schedule) != has(self.interval)',
        'set exactly one of schedule (a cron expression) or interval (a duration)',
        (s) => (s.schedule !== undefined) !== (s.interval !== undefined),
      ),
      cel<SpecLike>(
        '!has(self.timeZone) || has(self.schedule)',
        'timeZone applies only to schedule: remove it, or use schedule instead of interval',
        (s) => s.timeZone === undefined || s.schedule !== undefined,
        { fieldPath: '.timeZone' },
      ),
      cel<SpecLike>(
        "!has(self.previousValueRetention) || (has(self.strategy) && self.strategy == 'TwoPhase')",
        'previousValueRetention applies only to strategy TwoPhase',
        (s) => s.previousValueRetention === undefined || s.strategy === 'TwoPhase',
        { fieldPath: '.previousValueRetention' },
      ),
      cel<SpecLike>(
        "!has(self.rollbackOnFailure) || !self.rollbackOnFailure || (has(self.strategy) && self.strategy == 'TwoPhase')",
        'rollbackOnFailure applies only to strategy TwoPhase (Replace keeps no previous value to roll back to)',
        (s) => s.rollbackOnFailure !== true || s.strategy === 'TwoPhase',
        { fieldPath: '.rollbackOnFailure' },
      ),
    ],
  },
);

export const SecretRotationStatusSchema = Type.Object(
  {
    conditions: Type.Optional(
      Conditions('Current state. Ready is True when the last rotation succeeded and nothing is pending.'),
    ),
    observedGeneration: Type.Optional(
      ObservedGeneration('The metadata.generation the status was computed for.'),
    ),
    lastRotationTime: Type.Optional(Timestamp('When the value was last rotated.')),
    nextRotationTime: Type.Optional(Timestamp('When the next rotation is due.')),
    currentVersion: Type.Optional(
      Type.String({ description: 'Backend version holding the current value.', maxLength: 64 }),
    ),
    previousVersion: Type.Optional(
      Type.String({
        description: 'Backend version holding the previous value, while it is still valid.',
        maxLength: 64,
      }),
    ),
    rotateNowHandled: Type.Optional(
      Type.String({
        description:
          'Digest (sha256:<base64url>) of the vaultsync.io/rotate-now annotation value the last manual ' +
          'rotation answered; the value itself is not copied. Setting the annotation to any other value asks ' +
          'for one more rotation.',
        maxLength: 256,
      }),
    ),
    rollbackToHandled: Type.Optional(
      Type.String({
        description:
          'Digest (sha256:<base64url>) of the vaultsync.io/rollback-to annotation value the last rollback ' +
          'answered (done or refused); the value itself is not copied. Any other value asks for one more rollback.',
        maxLength: 256,
      }),
    ),
    phase: Type.Optional(
      StringEnum([...ROTATION_PHASES], {
        description:
          'Idle: waiting for the next rotation. Rotating: generating and writing. RollingOut: consumers are ' +
          'restarting. Retiring: the previous value is being retired (TwoPhase). Failed: the last rotation failed. ' +
          'RolledBack: the consumers did not become ready and the previous value was written back (rollbackOnFailure).',
      }),
    ),
    history: Type.Optional(
      Type.Array(
        Type.Object(
          {
            version: Type.String({ description: 'Backend version written by the rotation.', maxLength: 64 }),
            time: Timestamp('When the rotation started.'),
            outcome: StringEnum([...ROTATION_OUTCOMES], {
              description: 'Succeeded, Failed, or RolledBack (the previous value was written back).',
            }),
            message: Type.Optional(
              Type.String({
                description: 'Why it failed or was rolled back, without secret values.',
                maxLength: 1024,
              }),
            ),
            restoredFrom: Type.Optional(
              Type.String({
                description: 'For a version written by a rollback: the earlier version whose value it holds.',
                maxLength: 64,
              }),
            ),
          },
          { description: 'One rotation (or rollback): its version and outcome, never its value.' },
        ),
        {
          description: 'The latest rotations, newest first (spec.historyLimit).',
          maxItems: HISTORY_LIMIT.max,
        },
      ),
    ),
  },
  { description: 'Observed state of the SecretRotation, written by the operator.' },
);

export type SecretRotationSpec = Static<typeof SecretRotationSpecSchema>;
export type SecretRotationStatus = Static<typeof SecretRotationStatusSchema>;
export type Generator = Static<typeof GeneratorSchema>;
export type RestartWindow = Static<typeof RestartWindowSchema>;
export type GeneratorType = (typeof GENERATOR_TYPES)[number];
export type RotationStrategy = (typeof ROTATION_STRATEGIES)[number];
export type RotationPhase = (typeof ROTATION_PHASES)[number];
export type RestartMode = (typeof RESTART_MODES)[number];
export type Weekday = (typeof WEEKDAYS)[number];

export interface SecretRotation {
  apiVersion: 'vaultsync.io/v1alpha1';
  kind: 'SecretRotation';
  metadata: V1ObjectMeta;
  spec: SecretRotationSpec;
  status?: SecretRotationStatus;
}

export const secretRotationDefinition: KindDefinition<
  typeof SecretRotationSpecSchema,
  typeof SecretRotationStatusSchema
> = {
  kind: 'SecretRotation',
  plural: 'secretrotations',
  singular: 'secretrotation',
  listKind: 'SecretRotationList',
  shortNames: ['srot'],
  categories: CATEGORIES,
  description:
    'SecretRotation generates new values on a schedule, writes them to a backend, lets the VaultSecrets ' +
    'reading that path sync them and rolls out or signals the workloads that use them.',
  printerColumns: [
    ...READY_COLUMNS,
    { name: 'Schedule', type: 'string', jsonPath: '.spec.schedule', description: 'Cron schedule, if set.' },
    {
      name: 'Interval',
      type: 'string',
      jsonPath: '.spec.interval',
      description: 'Rotation interval, if set.',
    },
    // A future time: a 'date' column would show <invalid>.
    {
      name: 'Next Rotation',
      type: 'string',
      jsonPath: '.status.nextRotationTime',
      description: 'When the next rotation is due.',
    },
    { name: 'Phase', type: 'string', jsonPath: '.status.phase', description: 'Phase of the rotation.' },
    AGE_COLUMN,
  ],
  spec: SecretRotationSpecSchema,
  status: SecretRotationStatusSchema,
};
