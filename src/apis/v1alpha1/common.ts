// Shared pieces of the vaultsync.io/v1alpha1 API: constants, schema helpers, CEL rules with their
// TypeScript twins, and the schemas more than one kind uses (conditions, workload references,
// label selectors, durations).
//
// Rules for every schema in this package (the CRDs are generated from them, see crds.ts):
// - Kubernetes structural schemas only: every node has a type, no $ref/$id, maps are Records
//   (rendered as additionalProperties), enums are unions of string literals (rendered as enum).
// - No schema defaults (Argo CD would show drift); the operator applies defaults in code and the
//   descriptions say what the effective default is. The *_DEFAULTS constants are the one place.
// - Every field has a description; every string or array a CEL rule reads has maxLength/maxItems.
import { FormatRegistry, Type } from '@sinclair/typebox';
import type { SchemaOptions, Static, TLiteral, TSchema, TUnion } from '@sinclair/typebox';
import { DURATION_PATTERN, isDuration, parseDuration } from './duration.ts';

export const GROUP = 'vaultsync.io';
export const VERSION = 'v1alpha1';
export const API_VERSION = 'vaultsync.io/v1alpha1';

/** The kinds this API version serves. */
export const KINDS = ['VaultSecret', 'VaultCertificate', 'SecretRotation'] as const;
export type Kind = (typeof KINDS)[number];

export function isKind(value: unknown): value is Kind {
  return typeof value === 'string' && (KINDS as readonly string[]).includes(value);
}

// ---------------------------------------------------------------------------------------------
// CEL rules and their TypeScript twins
// ---------------------------------------------------------------------------------------------

/** One entry of x-kubernetes-validations. */
export interface CelRule {
  rule: string;
  message: string;
  messageExpression?: string;
  /** Relative JSON path (".field") the apiserver reports the error at. */
  fieldPath?: string;
  reason?: 'FieldValueInvalid' | 'FieldValueForbidden' | 'FieldValueRequired' | 'FieldValueDuplicate';
}

type Twin = (self: unknown) => boolean;
const twins = new Map<string, Twin>();

/**
 * Declares a CEL rule together with a TypeScript function that decides the same thing. The CRD
 * carries the rule; validateSpec runs the twin, so the operator and its unit tests reject what the
 * apiserver rejects. Identical rule text means identical semantics, so the first twin wins.
 */
export function cel<T>(
  rule: string,
  message: string,
  check: (self: T) => boolean,
  extra: Pick<CelRule, 'fieldPath' | 'reason'> = {},
): CelRule {
  if (!twins.has(rule)) twins.set(rule, check as Twin);
  return { rule, message, ...extra };
}

/** The TypeScript twin of a CEL rule declared with cel(). */
export function celTwin(rule: string): Twin | undefined {
  return twins.get(rule);
}

// ---------------------------------------------------------------------------------------------
// Formats: regular expressions valid in both RE2 (apiserver, CEL) and JavaScript, no backslashes
// ---------------------------------------------------------------------------------------------

export const DNS1123_LABEL_PATTERN = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$';
export const DNS1123_SUBDOMAIN_PATTERN = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?([.][a-z0-9]([-a-z0-9]*[a-z0-9])?)*$';
/** Characters Kubernetes allows in a Secret data key. */
export const SECRET_KEY_PATTERN = '^[-._a-zA-Z0-9]+$';
/** A time of day, 24-hour clock. */
export const TIME_OF_DAY_PATTERN = '^([01][0-9]|2[0-3]):[0-5][0-9]$';
/** An IANA time zone name such as UTC, Europe/Berlin or America/Argentina/Buenos_Aires. */
export const TIME_ZONE_PATTERN = '^[A-Za-z][A-Za-z0-9_+-]*(/[A-Za-z0-9_+-]+)*$';
/** A relative backend path: segments separated by single slashes, no leading or trailing slash. */
export const BACKEND_PATH_PATTERN = '^[^/]+(/[^/]+)*$';
export const DOT_SEGMENT_PATTERN = '(^|/)[.][.]?(/|$)';

function cronNames(names: string[]): string {
  return [...names, ...names.map((n) => n.toLowerCase())].join('|');
}
function cronField(value: string): string {
  const atom = `(${value})`;
  const item = `([*]|${atom}(-${atom})?)(/[0-9]{1,2})?`;
  return `${item}(,${item})*`;
}
/** Standard five-field cron: minute hour day-of-month month day-of-week (0 or 7 = Sunday). */
export const CRON_PATTERN =
  '^' +
  [
    '[0-5]?[0-9]',
    '[01]?[0-9]|2[0-3]',
    '0?[1-9]|[12][0-9]|3[01]',
    `0?[1-9]|1[0-2]|${cronNames(['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'])}`,
    `[0-7]|${cronNames(['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'])}`,
  ]
    .map(cronField)
    .join(' +') +
  '$';

export function isBackendPath(value: string): boolean {
  return new RegExp(BACKEND_PATH_PATTERN).test(value) && !new RegExp(DOT_SEGMENT_PATTERN).test(value);
}

// CEL snippets. CEL's || and && absorb errors when the other side decides, so a guard such as
// `!isDur(x) || duration(x) < ...` never fails with an evaluation error on a malformed string.
export function celIsDuration(expr: string): string {
  return `${expr}.matches('${DURATION_PATTERN}')`;
}

// RFC 3339 timestamps as metav1.Time writes them; registered so TypeBox can check status objects.
const DATE_TIME_RE = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;
if (!FormatRegistry.Has('date-time')) {
  FormatRegistry.Set('date-time', (v) => DATE_TIME_RE.test(v) && !Number.isNaN(Date.parse(v)));
}

// ---------------------------------------------------------------------------------------------
// Schema helpers
// ---------------------------------------------------------------------------------------------

export type TStringEnum<T extends string[]> = TUnion<{ [K in keyof T]: TLiteral<T[K]> }>;

/** A string restricted to the given values; rendered as {type: string, enum: [...]}. */
export function StringEnum<const T extends string[]>(values: [...T], options: SchemaOptions): TStringEnum<T> {
  return Type.Union(
    values.map((v) => Type.Literal(v)),
    options,
  ) as unknown as TStringEnum<T>;
}

/** A map of string to string; rendered as additionalProperties: {type: string}. */
export function StringMap(description: string, options: SchemaOptions = {}) {
  return Type.Record(Type.String(), Type.String(), { description, ...options });
}

export function DnsLabel(description: string) {
  return Type.String({ description, minLength: 1, maxLength: 63, pattern: DNS1123_LABEL_PATTERN });
}

export function DnsSubdomain(description: string) {
  return Type.String({ description, minLength: 1, maxLength: 253, pattern: DNS1123_SUBDOMAIN_PATTERN });
}

/** A Go duration string (30s, 5m, 1h30m), checked by CEL so the message says what to write. */
export function Duration(description: string, rules: CelRule[] = []) {
  return Type.String({
    description,
    maxLength: 64,
    'x-kubernetes-validations': [
      cel<string>(
        celIsDuration('self'),
        'must be a duration such as 30s, 5m, 1h or 1h30m (a number and a unit: ms, s, m or h)',
        isDuration,
      ),
      ...rules,
    ],
  });
}

/** A duration rule `duration(self) <op> duration(bound)` that stays silent on malformed input. */
export function durationAtLeast(bound: string, message: string, allowZero = false): CelRule {
  const zero = allowZero ? ` || duration(self) == duration('0s')` : '';
  return cel<string>(
    `!${celIsDuration('self')}${zero} || duration(self) >= duration('${bound}')`,
    message,
    (s) =>
      !isDuration(s) || (allowZero && parseDuration(s) === 0) || parseDuration(s) >= parseDuration(bound),
  );
}

export function BackendName(description: string) {
  return DnsLabel(description);
}

/** A relative path in a backend (shop/db), without '.' or '..' segments. */
export function BackendPath(description: string) {
  return Type.String({
    description,
    minLength: 1,
    maxLength: 512,
    'x-kubernetes-validations': [
      cel<string>(
        `self.matches('${BACKEND_PATH_PATTERN}') && !self.matches('${DOT_SEGMENT_PATTERN}')`,
        "must be a relative path such as shop/db: no leading or trailing '/', no empty, '.' or '..' segments",
        isBackendPath,
      ),
    ],
  });
}

// ---------------------------------------------------------------------------------------------
// Private keys (VaultCertificate.privateKey and SecretRotation keyPair generators)
// ---------------------------------------------------------------------------------------------

export const KEY_ALGORITHMS = ['RSA', 'ECDSA', 'Ed25519'] as const;
export type KeyAlgorithm = (typeof KEY_ALGORITHMS)[number];
export const KEY_DEFAULTS = { algorithm: 'ECDSA', size: { RSA: 2048, ECDSA: 256 } } as const;
export const VALID_KEY_SIZES = { RSA: [2048, 3072, 4096], ECDSA: [256, 384] } as const;

export function KeyAlgorithmSchema(description: string) {
  return StringEnum([...KEY_ALGORITHMS], { description });
}

export function KeySize(description: string) {
  return Type.Integer({ description, minimum: 1, maximum: 8192 });
}

interface KeyLike {
  algorithm?: string;
  size?: number;
}

/** Rules tying size to algorithm; the algorithm defaults to ECDSA when omitted. */
export const keySizeRules: CelRule[] = [
  cel<KeyLike>(
    "!has(self.size) || !has(self.algorithm) || self.algorithm != 'RSA' || self.size in [2048, 3072, 4096]",
    'size must be 2048, 3072 or 4096 for algorithm RSA',
    (s) => s.size === undefined || s.algorithm !== 'RSA' || [2048, 3072, 4096].includes(s.size),
    { fieldPath: '.size' },
  ),
  cel<KeyLike>(
    "!has(self.size) || (has(self.algorithm) && self.algorithm != 'ECDSA') || self.size in [256, 384]",
    'size must be 256 or 384 for algorithm ECDSA (the default algorithm)',
    (s) => s.size === undefined || (s.algorithm ?? 'ECDSA') !== 'ECDSA' || [256, 384].includes(s.size),
    { fieldPath: '.size' },
  ),
  cel<KeyLike>(
    "!has(self.size) || !has(self.algorithm) || self.algorithm != 'Ed25519'",
    'size must not be set for algorithm Ed25519: its key size is fixed',
    (s) => s.size === undefined || s.algorithm !== 'Ed25519',
    { fieldPath: '.size' },
  ),
];

// ---------------------------------------------------------------------------------------------
// Workload references
// ---------------------------------------------------------------------------------------------

export const WORKLOAD_KINDS = ['Deployment', 'StatefulSet', 'DaemonSet', 'Rollout'] as const;
export type WorkloadKind = (typeof WORKLOAD_KINDS)[number];

export const WorkloadReferenceSchema = Type.Object(
  {
    kind: StringEnum([...WORKLOAD_KINDS], {
      description:
        'Kind of the workload: Deployment, StatefulSet, DaemonSet (apps/v1) or Rollout (Argo Rollouts, argoproj.io/v1alpha1).',
    }),
    name: DnsSubdomain('Name of the workload, in the namespace of this resource.'),
  },
  { description: 'A workload in the same namespace, by kind and name.' },
);
export type WorkloadReference = Static<typeof WorkloadReferenceSchema>;

/** A set of workload references, unique by kind and name. */
export function WorkloadReferences(description: string) {
  return Type.Array(WorkloadReferenceSchema, {
    description,
    maxItems: 32,
    'x-kubernetes-list-type': 'map',
    'x-kubernetes-list-map-keys': ['kind', 'name'],
  });
}

export const RolloutRestartTargetsSchema = WorkloadReferences(
  'Workloads to restart (rolling restart of their pod template) when the data of the Secret changes. ' +
    'Never restarted on the first sync or when the operator restarts; several changes in a burst cause one restart.',
);

export const LabelSelectorSchema = Type.Object(
  {
    matchLabels: Type.Optional(
      StringMap('Labels a workload must all carry (key and value) to be selected.', { maxProperties: 64 }),
    ),
    matchExpressions: Type.Optional(
      Type.Array(
        Type.Object(
          {
            key: Type.String({
              description: 'Label key the requirement applies to.',
              minLength: 1,
              maxLength: 317,
            }),
            operator: StringEnum(['In', 'NotIn', 'Exists', 'DoesNotExist'], {
              description: 'How the label value relates to values: In, NotIn, Exists or DoesNotExist.',
            }),
            values: Type.Optional(
              Type.Array(Type.String({ description: 'A label value.', maxLength: 63 }), {
                description: 'Label values; non-empty for In and NotIn, empty for Exists and DoesNotExist.',
                maxItems: 64,
              }),
            ),
          },
          {
            description: 'A label requirement.',
            'x-kubernetes-validations': [
              cel<{ operator: string; values?: string[] }>(
                "self.operator in ['In', 'NotIn'] ? (has(self.values) && size(self.values) > 0) : (!has(self.values) || size(self.values) == 0)",
                'values must list at least one value for operators In and NotIn, and must be empty for Exists and DoesNotExist',
                (s) =>
                  ['In', 'NotIn'].includes(s.operator)
                    ? (s.values?.length ?? 0) > 0
                    : (s.values?.length ?? 0) === 0,
              ),
            ],
          },
        ),
        { description: 'Label requirements a workload must all meet to be selected.', maxItems: 16 },
      ),
    ),
  },
  {
    description:
      'Selects workloads in the same namespace by label, like a Deployment selector. Both parts must match.',
    'x-kubernetes-map-type': 'atomic',
  },
);
export type LabelSelector = Static<typeof LabelSelectorSchema>;

// ---------------------------------------------------------------------------------------------
// Status pieces
// ---------------------------------------------------------------------------------------------

export function Timestamp(description: string) {
  return Type.String({ description, format: 'date-time' });
}

export function ObservedGeneration(description: string) {
  return Type.Integer({ description, format: 'int64', minimum: 0 });
}

/** The metav1.Condition shape, field for field. */
export const ConditionSchema = Type.Object(
  {
    type: Type.String({
      description: 'Type of the condition in CamelCase, e.g. Ready.',
      maxLength: 316,
      pattern:
        '^([a-z0-9]([-a-z0-9]*[a-z0-9])?([.][a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$',
    }),
    status: StringEnum(['True', 'False', 'Unknown'], {
      description: 'Status of the condition: True, False or Unknown.',
    }),
    observedGeneration: Type.Optional(
      ObservedGeneration('The metadata.generation this condition was set for; older means it may be stale.'),
    ),
    lastTransitionTime: Timestamp('When the condition last changed status (not when it was last written).'),
    reason: Type.String({
      description:
        'Machine-readable CamelCase reason for the last transition, e.g. Synced or BackendUnavailable.',
      minLength: 1,
      maxLength: 1024,
      pattern: '^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$',
    }),
    message: Type.String({
      description: 'Human-readable details about the transition; may be empty. Never contains secret values.',
      maxLength: 32768,
    }),
  },
  { description: 'A condition in the standard Kubernetes (metav1.Condition) shape.' },
);
export type Condition = Static<typeof ConditionSchema>;

export function Conditions(description: string) {
  return Type.Array(ConditionSchema, {
    description,
    maxItems: 16,
    'x-kubernetes-list-type': 'map',
    'x-kubernetes-list-map-keys': ['type'],
  });
}

// ---------------------------------------------------------------------------------------------
// Kind definitions: what crds.ts needs to build a CustomResourceDefinition
// ---------------------------------------------------------------------------------------------

export interface PrinterColumn {
  name: string;
  type: 'string' | 'integer' | 'number' | 'boolean' | 'date';
  jsonPath: string;
  description: string;
  priority?: number;
}

export interface KindDefinition<Spec extends TSchema = TSchema, Status extends TSchema = TSchema> {
  kind: Kind;
  plural: string;
  singular: string;
  listKind: string;
  shortNames: string[];
  categories: string[];
  /** Description of the resource as a whole (kubectl explain <kind>). */
  description: string;
  printerColumns: PrinterColumn[];
  spec: Spec;
  status: Status;
}

export const CATEGORIES = ['vaultsync'];

/** Columns every kind starts with. */
export const READY_COLUMNS: PrinterColumn[] = [
  {
    name: 'Ready',
    type: 'string',
    jsonPath: '.status.conditions[?(@.type=="Ready")].status',
    description: 'Status of the Ready condition.',
  },
  {
    name: 'Reason',
    type: 'string',
    jsonPath: '.status.conditions[?(@.type=="Ready")].reason',
    description: 'Reason of the Ready condition.',
  },
];

export const AGE_COLUMN: PrinterColumn = {
  name: 'Age',
  type: 'date',
  jsonPath: '.metadata.creationTimestamp',
  description: 'Time since the resource was created.',
};
