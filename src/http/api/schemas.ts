// Request and response schemas of the API: fastify validates bodies and parameters with them,
// and /openapi.json is generated from them. Plain JSON Schema (no custom keywords).
import { Type, type TSchema } from '@sinclair/typebox';
import { VaultCertificateSpecSchema } from '../../apis/v1alpha1/index.ts';

const DNS_LABEL = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$';
const DNS_SUBDOMAIN = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$';

export const Namespace = Type.String({ pattern: DNS_LABEL, maxLength: 63, description: 'Namespace.' });
export const ObjectName = Type.String({ pattern: DNS_SUBDOMAIN, maxLength: 253 });
export const BackendName = Type.String({ pattern: DNS_LABEL, maxLength: 63 });

export const ErrorBody = Type.Object(
  {
    code: Type.String({ description: 'Stable error code, e.g. Forbidden, NotFound, BackendUnavailable.' }),
    message: Type.String(),
    retryAfterSeconds: Type.Optional(Type.Integer()),
  },
  { $id: 'Error', description: 'Every error: a code and a message, never secret data.' },
);

const errorResponses = Object.fromEntries(
  [400, 401, 403, 404, 409, 413, 415, 429, 500, 503, 504].map((s) => [s, Type.Ref('Error')]),
);

/** `responses` for a route: its success schemas plus the shared error body. */
export function responses(ok: Record<number, TSchema>): Record<number, TSchema> {
  return { ...ok, ...errorResponses };
}

/** Time kept back from api.requestTimeout for the trigger's own patch and the answer. */
export const WAIT_HEADROOM_MS = 5_000;
/** The longest wait a request may ask for at all. */
const MAX_WAIT_SECONDS = 60;

/**
 * The largest `waitSeconds` a request may ask for: the answer must be sent before the request
 * timeout, which also closes an idle connection (25 s at the default 30 s).
 */
export function maxWaitSeconds(requestTimeoutMs: number): number {
  return Math.max(0, Math.min(MAX_WAIT_SECONDS, Math.floor((requestTimeoutMs - WAIT_HEADROOM_MS) / 1000)));
}

export const WaitSeconds = (max: number) =>
  Type.Integer({
    minimum: 0,
    maximum: max,
    description:
      'Wait up to this long for the operator to answer the request (0: return at once, 202). At most ' +
      'api.requestTimeout less 5 s, and 60.',
  });

export const syncBody = (maxWait: number) =>
  Type.Object({ waitSeconds: Type.Optional(WaitSeconds(maxWait)) }, { additionalProperties: false });

export const syncSelectorBody = (maxWait: number) =>
  Type.Object(
    {
      labelSelector: Type.String({
        minLength: 1,
        maxLength: 1024,
        description: 'Kubernetes label selector, e.g. `app=shop,tier in (web,api)`.',
      }),
      waitSeconds: Type.Optional(WaitSeconds(maxWait)),
    },
    { additionalProperties: false },
  );

export const TriggerResult = Type.Object({
  name: Type.String(),
  /** Pending (no wait, or not answered in time), Done (answered), Failed (answered with an error). */
  state: Type.Union([Type.Literal('Pending'), Type.Literal('Done'), Type.Literal('Failed')]),
  reason: Type.Optional(Type.String()),
  message: Type.Optional(Type.String()),
});

export const TriggerResponse = Type.Object({
  namespace: Type.String(),
  kind: Type.String(),
  /** The value written to the trigger annotation. */
  token: Type.String(),
  results: Type.Array(TriggerResult),
});

/** Drops the Kubernetes-only keywords (CEL rules) so ajv and OpenAPI read the schema. */
function plain<T extends TSchema>(schema: T): T {
  return JSON.parse(
    JSON.stringify(schema, (key, value: unknown) => (key.startsWith('x-kubernetes-') ? undefined : value)),
  ) as T;
}

/** Every property optional again (the JSON round trip of `plain` drops TypeBox's markers). */
const optional = (props: Record<string, TSchema>) =>
  Object.fromEntries(Object.entries(props).map(([k, v]) => [k, Type.Optional(v)]));

const certificateFields = plain(
  Type.Pick(VaultCertificateSpecSchema, [
    'commonName',
    'dnsNames',
    'ipAddresses',
    'uris',
    'emailAddresses',
    'subject',
    'usages',
    'duration',
  ]),
);

const Role = Type.String({ minLength: 1, maxLength: 128, description: 'Role of the issuer (vault-pki).' });

export const IssueBody = Type.Object(
  {
    ...optional(certificateFields.properties),
    role: Type.Optional(Role),
    privateKey: Type.Optional(
      plain(Type.Pick(VaultCertificateSpecSchema.properties.privateKey, ['algorithm', 'size'])),
    ),
  },
  { additionalProperties: false },
);

export const SignBody = Type.Object(
  {
    ...optional(certificateFields.properties),
    role: Type.Optional(Role),
    csr: Type.String({ minLength: 1, maxLength: 65_536, description: 'PEM PKCS#10 certificate request.' }),
  },
  { additionalProperties: false },
);

export const CertificateResponse = Type.Object({
  certificate: Type.String({ description: 'Leaf certificate, PEM.' }),
  chain: Type.Array(Type.String(), { description: 'Intermediates, issuer of the leaf first.' }),
  ca: Type.String({ description: 'The CA to trust, PEM.' }),
  privateKey: Type.Optional(Type.String({ description: 'certificates:issue only: the key, PKCS#8 PEM.' })),
  serialNumber: Type.String(),
  notBefore: Type.String({ format: 'date-time' }),
  notAfter: Type.String({ format: 'date-time' }),
  warnings: Type.Array(Type.String()),
});

const SecretValues = Type.Record(Type.String(), Type.String());

export const SecretResponse = Type.Object({
  path: Type.String(),
  version: Type.String(),
  data: Type.Optional(SecretValues),
  binaryData: Type.Optional(
    Type.Record(Type.String(), Type.String(), { description: 'Non-UTF-8 values, base64.' }),
  ),
});

export const BatchGetBody = Type.Object(
  {
    // Each path is checked by the backend's tenancy rules; a bad one fails only its own item.
    paths: Type.Array(Type.String({ minLength: 1, maxLength: 512 }), {
      minItems: 1,
      uniqueItems: true,
    }),
  },
  { additionalProperties: false },
);

export const BatchGetResponse = Type.Object({
  items: Type.Array(
    Type.Object({
      path: Type.String(),
      version: Type.Optional(Type.String()),
      data: Type.Optional(SecretValues),
      binaryData: Type.Optional(Type.Record(Type.String(), Type.String())),
      error: Type.Optional(Type.Object({ code: Type.String(), message: Type.String() })),
    }),
  ),
  succeeded: Type.Integer(),
  failed: Type.Integer(),
});

export const WriteBody = Type.Object(
  {
    data: Type.Record(
      Type.String({ pattern: '^[-._a-zA-Z0-9]{1,253}$' }),
      Type.String({ maxLength: 1_048_576 }),
      {
        minProperties: 1,
        description: 'Every key of the new version (keys not listed are not kept).',
      },
    ),
    cas: Type.Optional(
      Type.String({
        pattern: '^[0-9A-Za-z._-]{1,128}$',
        description: 'Write only if the current version is this one ("0": only if the path does not exist).',
      }),
    ),
  },
  { additionalProperties: false },
);

export const WriteResponse = Type.Object({ path: Type.String(), version: Type.String() });
