/**
 * The operator config: one YAML file, described here once. The schemas give the static types
 * (`StaticDecode`: durations decoded to milliseconds, inline secrets wrapped in `Sensitive`)
 * and the structural validation; `load.ts` adds the checks a schema cannot express.
 *
 * Custom keyword `errorMessage` on a schema: the text shown when that schema's own constraint
 * (pattern, enum, ...) fails, phrased as what to fix.
 */
import { Type, type StaticDecode, type TSchema } from '@sinclair/typebox';
import { Sensitive } from '../secrets/sensitive.ts';
import { DURATION_PATTERN, formatDuration, parseDuration } from '../apis/v1alpha1/duration.ts';

// ---------------------------------------------------------------------------------------------
// Building blocks

const DNS_LABEL = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$';
const DNS_SUBDOMAIN = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$';

const DnsLabel = (options: { default?: string } = {}) =>
  Type.String({
    pattern: DNS_LABEL,
    maxLength: 63,
    errorMessage:
      'must be a DNS label: lower-case letters, digits and "-", starting and ending with a letter or digit, at most 63 characters',
    ...options,
  });

const DnsSubdomain = (options: { default?: string } = {}) =>
  Type.String({
    pattern: DNS_SUBDOMAIN,
    maxLength: 253,
    errorMessage: 'must be a lower-case DNS name (letters, digits, "-" and "."), at most 253 characters',
    ...options,
  });

/** A duration string in the file, milliseconds in the decoded config. */
export const Duration = (defaultValue?: string) =>
  Type.Transform(
    Type.String({
      pattern: DURATION_PATTERN,
      errorMessage: 'must be a duration such as 500ms, 30s, 5m or 1h30m',
      ...(defaultValue === undefined ? {} : { default: defaultValue }),
    }),
  )
    .Decode((text) => Math.round(parseDuration(text)))
    .Encode((ms) => formatDuration(ms));

/** A secret written inline in the config (development only): wrapped once decoded. */
const SensitiveString = (minLength = 1, errorMessage = 'must be a non-empty string') =>
  Type.Transform(Type.String({ minLength, errorMessage }))
    .Decode((text) => new Sensitive(text))
    .Encode((s) => s.reveal());

const FilePath = () =>
  Type.String({
    pattern: '^/',
    minLength: 2,
    errorMessage: 'must be an absolute file path such as /etc/vaultsync/token',
  });

/** A Vault mount path such as `secret`, `kubernetes` or `team/kv` (no leading or trailing "/"). */
const MountPath = (defaultValue: string) =>
  Type.String({
    pattern: '^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*$',
    maxLength: 200,
    errorMessage: 'must be a mount path such as "secret" or "team/kv" (no leading or trailing "/")',
    default: defaultValue,
  });

/** One of the listed strings; typed as their union (a mapped Type.Union alone types as never). */
const OneOf = <T extends string>(values: readonly T[], defaultValue?: T) =>
  Type.Unsafe<T>(
    Type.Union(
      values.map((v) => Type.Literal(v)),
      {
        errorMessage: `must be one of: ${values.join(', ')}`,
        ...(defaultValue === undefined ? {} : { default: defaultValue }),
      },
    ),
  );

/** `host:port`, `:port`, `[::1]:port`, or `0` to switch the listener off. */
const ListenAddress = (defaultValue: string) =>
  Type.String({
    pattern: '^(0|(\\[[0-9A-Fa-f:.]+\\]|[A-Za-z0-9.-]*):[0-9]{1,5})$',
    errorMessage:
      'must be a listen address such as ":8080", "127.0.0.1:8080" or "[::1]:8080" (or "0" to disable)',
    default: defaultValue,
  });

/** A reference to one key of a Kubernetes Secret (namespace defaults to `operator.namespace`). */
export const SecretKeyRefSchema = Type.Object(
  {
    name: DnsSubdomain(),
    key: Type.String({
      pattern: '^[-._a-zA-Z0-9]+$',
      maxLength: 253,
      errorMessage: 'must be a Secret data key (letters, digits, "-", "_" and ".")',
    }),
    namespace: Type.Optional(DnsLabel()),
  },
  { additionalProperties: false },
);

/** Namespace glob: a namespace name in which `*` matches any run of characters (`team-*`, `*`). */
const NamespaceGlob = Type.String({
  pattern: '^[-a-z0-9*]{1,63}$',
  errorMessage: 'must be a namespace name or glob such as "shop", "team-*" or "*"',
});

/**
 * Path glob, segments separated by "/": `*` matches within one segment, `**` (a whole segment)
 * matches any number of segments, `{namespace}` is replaced by the caller's namespace.
 * Checked further in `load.ts`.
 */
const PathGlob = Type.String({
  pattern: '^[-A-Za-z0-9_.*/{}]{1,512}$',
  errorMessage:
    'must be a path glob such as "{namespace}/*", "shared/**" or "apps/db" (letters, digits, "-_./*{}")',
});

// ---------------------------------------------------------------------------------------------
// Operator

export const LeaderElectionSchema = Type.Object(
  {
    enabled: Type.Boolean({ default: true, errorMessage: 'must be true or false' }),
    leaseName: DnsSubdomain({ default: 'vaultsync-leader' }),
    leaseDuration: Duration('15s'),
    renewDeadline: Duration('10s'),
    retryPeriod: Duration('2s'),
  },
  { additionalProperties: false, default: {} },
);

export const LOG_LEVELS = ['error', 'warn', 'info', 'debug'] as const;

export const OperatorSchema = Type.Object(
  {
    /** Namespace the operator runs in (default: env POD_NAMESPACE, else "vaultsync"). */
    namespace: DnsLabel({ default: 'vaultsync' }),
    /** The operator's own ServiceAccount (used by `auth.kubernetes.serviceAccount: operator`). */
    serviceAccountName: DnsSubdomain({ default: 'vaultsync' }),
    /**
     * Namespaces whose VaultSecrets, VaultCertificates, SecretRotations, managed Secrets and
     * workloads are listed and watched (one list/watch per namespace); resources elsewhere are
     * ignored and never requested. Left out or empty: all namespaces. The operator's own
     * namespace (Lease, HMAC key) need not be listed.
     */
    watchNamespaces: Type.Array(DnsLabel(), { default: [], maxItems: 1000 }),
    leaderElection: LeaderElectionSchema,
    workers: Type.Integer({ minimum: 1, maximum: 64, default: 4 }),
    defaultRefreshInterval: Duration('1h'),
    /**
     * How often each informer replays its cache to its controller, which re-checks every
     * resource against the cache (no request to the API server, no backend read a refresh
     * schedule did not want). `0`: never. A full relist happens only after a watch expired
     * (410 Gone), the server ended it with an error, or it stalled.
     */
    resyncPeriod: Duration('10m'),
    metricsAddress: ListenAddress(':8080'),
    healthAddress: ListenAddress(':8081'),
    logLevel: OneOf(LOG_LEVELS, 'info'),
    /**
     * Allow SecretRotations with `restart.mode: AnnotatePods`, which patch running pods (RBAC
     * `list` and `patch` on pods, granted by the chart only with this set). Off: such a rotation
     * is refused (Ready=False, AnnotatePodsDisabled) before anything is written.
     */
    annotatePods: Type.Boolean({ default: false, errorMessage: 'must be true or false' }),
  },
  { additionalProperties: false, default: {} },
);

// ---------------------------------------------------------------------------------------------
// Backends: fields every backend has

const RateLimitSchema = Type.Object(
  {
    /** Sustained requests per second to this backend. */
    qps: Type.Number({ exclusiveMinimum: 0, maximum: 100_000, default: 50 }),
    /** Requests allowed at once after a quiet period. */
    burst: Type.Integer({ minimum: 1, maximum: 100_000, default: 100 }),
    /** Longest a caller waits for its turn; beyond that it gets a Throttled error to requeue. */
    maxWait: Duration('5s'),
  },
  { additionalProperties: false, default: {} },
);

const CircuitBreakerSchema = Type.Object(
  {
    /** Consecutive transient failures (unreachable, 5xx) that open the circuit. */
    failureThreshold: Type.Integer({ minimum: 1, maximum: 1000, default: 5 }),
    /** Time the circuit stays open before one trial request is let through. */
    halfOpenAfter: Duration('30s'),
  },
  { additionalProperties: false, default: {} },
);

const CoalesceSchema = Type.Object(
  {
    /** Keep a read result this long for identical reads (0: share only concurrent requests). */
    ttl: Duration('0'),
  },
  { additionalProperties: false, default: {} },
);

const commonBackendFields = {
  name: DnsLabel(),
  /** Namespaces whose resources may use this backend (globs). Required: no implicit "all". */
  allowedNamespaces: Type.Array(NamespaceGlob, {
    minItems: 1,
    errorMessage: 'must list at least one namespace glob, e.g. ["team-*"] (use ["*"] for all namespaces)',
  }),
  /** Paths those resources may read (globs, `{namespace}` templated). */
  allowedPaths: Type.Array(PathGlob, {
    minItems: 1,
    default: ['**'],
    errorMessage: 'must list at least one path glob, e.g. ["{namespace}/*"]',
  }),
  /**
   * Paths those resources may write (SecretRotation, the API's PUT): globs like allowedPaths.
   * Default: none, so a backend is read-only until writes are granted here.
   */
  allowedWritePaths: Type.Array(PathGlob, {
    default: [],
    errorMessage: 'must be a list of path globs, e.g. ["{namespace}/rotated/*"] (default: none)',
  }),
  rateLimit: RateLimitSchema,
  circuitBreaker: CircuitBreakerSchema,
  coalesce: CoalesceSchema,
  /** Per-request timeout. */
  timeout: Duration('10s'),
};

// ---------------------------------------------------------------------------------------------
// vault (Vault or OpenBao, KV v2)

export const VaultTokenAuthSchema = Type.Object(
  {
    tokenFile: Type.Optional(FilePath()),
    secretRef: Type.Optional(SecretKeyRefSchema),
    /** Inline token: development only. */
    value: Type.Optional(SensitiveString()),
  },
  { additionalProperties: false },
);

export const VaultAppRoleAuthSchema = Type.Object(
  {
    roleId: Type.String({ minLength: 1, maxLength: 256, errorMessage: 'must be the AppRole role_id' }),
    secretIdFile: Type.Optional(FilePath()),
    secretIdRef: Type.Optional(SecretKeyRefSchema),
    mountPath: MountPath('approle'),
  },
  { additionalProperties: false },
);

export const VaultKubernetesAuthSchema = Type.Object(
  {
    /** Vault role; `{namespace}` is replaced by the resource's namespace (`vaultsync-{namespace}`). */
    role: Type.String({
      pattern: '^[-A-Za-z0-9_.@{}]{1,128}$',
      errorMessage: 'must be a Vault role name (letters, digits, "-_.@"; "{namespace}" allowed)',
    }),
    mountPath: MountPath('kubernetes'),
    /**
     * `resource`: log in as a ServiceAccount in the resource's namespace (tenancy enforced by
     * Vault too); `operator`: log in as the operator's own ServiceAccount.
     */
    serviceAccount: OneOf(['resource', 'operator'] as const, 'resource'),
    /** ServiceAccount used in the resource's namespace when the resource names none. */
    serviceAccountName: DnsSubdomain({ default: 'vaultsync' }),
    /**
     * Audiences of the requested ServiceAccount token; the Vault role's `audience` must name one.
     * Default `vault`: a token meant for Vault is refused by the kube-apiserver and by anyone else
     * who checks the audience, so Vault (or whoever reads its logs) cannot replay it elsewhere.
     */
    audiences: Type.Array(
      Type.String({ minLength: 1, maxLength: 256, errorMessage: 'must be a non-empty string' }),
      {
        minItems: 1,
        default: ['vault'],
        errorMessage: 'must list at least one audience, or be left out (default: [vault])',
      },
    ),
    /** Lifetime requested for the ServiceAccount token (used only for the login). */
    tokenExpiration: Duration('10m'),
  },
  { additionalProperties: false },
);

export const VaultAuthSchema = Type.Object(
  {
    token: Type.Optional(VaultTokenAuthSchema),
    appRole: Type.Optional(VaultAppRoleAuthSchema),
    kubernetes: Type.Optional(VaultKubernetesAuthSchema),
  },
  { additionalProperties: false },
);

export const VaultBackendSchema = Type.Object(
  {
    type: Type.Literal('vault'),
    ...commonBackendFields,
    /** `https://host:port`; `http://` only with `tls.insecure: true`. */
    address: Type.String({
      minLength: 1,
      maxLength: 2048,
      errorMessage: 'must be a URL such as https://vault:8200',
    }),
    /** Vault Enterprise / OpenBao namespace. */
    namespace: Type.Optional(
      Type.String({
        pattern: '^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*/?$',
        errorMessage: 'must be a Vault namespace such as "team-a" or "org/team-a"',
      }),
    ),
    tls: Type.Object(
      {
        /** CA bundle to verify the server (read once at start-up). */
        caFile: Type.Optional(FilePath()),
        /** CA bundle inline (PEM). Filled from `caFile` by the loader. */
        caPem: Type.Optional(Type.String({ minLength: 1 })),
        /** Allows plain `http://` (development only). Certificate verification is never turned off. */
        insecure: Type.Boolean({ default: false, errorMessage: 'must be true or false' }),
      },
      { additionalProperties: false, default: {} },
    ),
    kv: Type.Object(
      {
        mount: MountPath('secret'),
      },
      { additionalProperties: false, default: {} },
    ),
    auth: VaultAuthSchema,
  },
  { additionalProperties: false },
);

// ---------------------------------------------------------------------------------------------
// kubernetes (Secrets in one source namespace) and memory (values from this file)

export const KubernetesBackendSchema = Type.Object(
  {
    type: Type.Literal('kubernetes'),
    ...commonBackendFields,
    /** Namespace holding the source Secrets; path = Secret name. */
    namespace: DnsLabel(),
  },
  { additionalProperties: false },
);

export const MemoryBackendSchema = Type.Object(
  {
    type: Type.Literal('memory'),
    ...commonBackendFields,
    /** `{path: {key: value}}`, version 1 of each path. */
    data: Type.Transform(
      Type.Record(
        Type.String(),
        Type.Record(Type.String(), Type.String({ errorMessage: 'must be a string value' }), {
          errorMessage: 'must be a map of key: value',
        }),
        { default: {}, errorMessage: 'must be a map of path: {key: value}' },
      ),
    )
      .Decode((data) => new Sensitive<Readonly<Record<string, Readonly<Record<string, string>>>>>(data))
      .Encode((s) => s.reveal() as Record<string, Record<string, string>>),
    /** `{path: {tag: value}}`: the tags a `find` by tags matches (not secret). */
    tags: Type.Record(
      Type.String(),
      Type.Record(Type.String(), Type.String({ errorMessage: 'must be a string value' }), {
        errorMessage: 'must be a map of tag: value',
      }),
      { default: {}, errorMessage: 'must be a map of path: {tag: value}' },
    ),
  },
  { additionalProperties: false },
);

// ---------------------------------------------------------------------------------------------
// Cloud secret managers: aws-secrets-manager, gcp-secret-manager, azure-key-vault

/**
 * An endpoint override (emulators, VPC / private endpoints). Never set by default: without it
 * each SDK talks to the cloud's public endpoint for the region or vault. Checked in `load.ts`.
 */
const EndpointUrl = (example: string) =>
  Type.String({
    minLength: 1,
    maxLength: 2048,
    errorMessage: `must be a URL such as ${example}`,
  });

const CloudTlsSchema = Type.Object(
  {
    /** Extra CA bundle to trust for the endpoint (read once at start-up). */
    caFile: Type.Optional(FilePath()),
    /** Extra CA bundle inline (PEM). Filled from `caFile` by the loader. */
    caPem: Type.Optional(Type.String({ minLength: 1 })),
    /** Allows a plain-text endpoint (emulators only). Certificate verification is never turned off. */
    insecure: Type.Boolean({ default: false, errorMessage: 'must be true or false' }),
  },
  { additionalProperties: false, default: {} },
);

export const AwsStaticAuthSchema = Type.Object(
  {
    accessKeyIdRef: SecretKeyRefSchema,
    secretAccessKeyRef: SecretKeyRefSchema,
    /** For temporary credentials. */
    sessionTokenRef: Type.Optional(SecretKeyRefSchema),
  },
  { additionalProperties: false },
);

export const AwsBackendSchema = Type.Object(
  {
    type: Type.Literal('aws-secrets-manager'),
    ...commonBackendFields,
    /** AWS region of the secrets, e.g. eu-west-1. */
    region: Type.String({
      pattern: '^[a-z]{2}(-[a-z]+)+-[0-9]{1,2}$',
      errorMessage: 'must be an AWS region such as eu-west-1',
    }),
    /** Endpoint override (moto, LocalStack, a VPC endpoint). */
    endpoint: Type.Optional(EndpointUrl('https://secretsmanager.eu-west-1.amazonaws.com')),
    tls: CloudTlsSchema,
    /**
     * Left out: the SDK's default credential chain (IRSA web identity, EKS Pod Identity,
     * environment, instance profile). `static`: access keys from a Kubernetes Secret.
     */
    auth: Type.Object(
      {
        static: Type.Optional(AwsStaticAuthSchema),
      },
      { additionalProperties: false, default: {} },
    ),
  },
  { additionalProperties: false },
);

export const GcpBackendSchema = Type.Object(
  {
    type: Type.Literal('gcp-secret-manager'),
    ...commonBackendFields,
    /** Project that holds the secrets (ID or number). */
    project: Type.String({
      pattern: '^([a-z][-a-z0-9]{4,28}[a-z0-9]|[0-9]{1,20})$',
      errorMessage: 'must be a Google Cloud project ID such as my-project-123 (or a project number)',
    }),
    /** `host:port` of another endpoint (an emulator); default secretmanager.googleapis.com:443. */
    endpoint: Type.Optional(
      Type.String({
        pattern: '^(\\[[0-9A-Fa-f:.]+\\]|[A-Za-z0-9.-]+):[0-9]{1,5}$',
        errorMessage: 'must be host:port such as 127.0.0.1:9090',
      }),
    ),
    tls: Type.Object(
      {
        /** Plain-text gRPC to `endpoint` (emulators only; no Google credentials are sent then). */
        insecure: Type.Boolean({ default: false, errorMessage: 'must be true or false' }),
      },
      { additionalProperties: false, default: {} },
    ),
    /** Locations for secrets created by writes; left out: automatic replication. */
    replicaLocations: Type.Optional(
      Type.Array(
        Type.String({
          pattern: '^[a-z]+-[a-z]+[0-9]{1,2}$',
          errorMessage: 'must be a Google Cloud region such as europe-west1',
        }),
        { minItems: 1, errorMessage: 'must list at least one region, or be left out' },
      ),
    ),
    /**
     * Left out: Application Default Credentials (GKE Workload Identity, the metadata server,
     * GOOGLE_APPLICATION_CREDENTIALS). `serviceAccountKeyRef`: a JSON key in a Kubernetes Secret.
     */
    auth: Type.Object(
      {
        serviceAccountKeyRef: Type.Optional(SecretKeyRefSchema),
      },
      { additionalProperties: false, default: {} },
    ),
  },
  { additionalProperties: false },
);

const AzureId = (what: string) =>
  Type.String({
    pattern: '^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$',
    errorMessage: `must be the ${what} (a GUID)`,
  });

export const AzureBackendSchema = Type.Object(
  {
    type: Type.Literal('azure-key-vault'),
    ...commonBackendFields,
    /** The vault, e.g. https://my-vault.vault.azure.net (an emulator's address for development). */
    vaultUrl: EndpointUrl('https://my-vault.vault.azure.net'),
    tls: Type.Object(
      {
        /** Extra CA bundle to trust (an emulator's certificate); read once at start-up. */
        caFile: Type.Optional(FilePath()),
        caPem: Type.Optional(Type.String({ minLength: 1 })),
      },
      { additionalProperties: false, default: {} },
    ),
    /**
     * At most one method. Left out: DefaultAzureCredential (Workload Identity from the
     * environment the webhook injects, managed identity, ...).
     */
    auth: Type.Object(
      {
        /** Microsoft Entra Workload Identity; fields left out come from AZURE_CLIENT_ID / AZURE_TENANT_ID. */
        workloadIdentity: Type.Optional(
          Type.Object(
            {
              clientId: Type.Optional(AzureId('client ID of the application or managed identity')),
              tenantId: Type.Optional(AzureId('tenant ID')),
            },
            { additionalProperties: false },
          ),
        ),
        managedIdentity: Type.Optional(
          Type.Object(
            { clientId: Type.Optional(AzureId('client ID of a user-assigned managed identity')) },
            { additionalProperties: false },
          ),
        ),
        /** A service principal's client secret, kept in a Kubernetes Secret. */
        clientSecret: Type.Optional(
          Type.Object(
            {
              tenantId: AzureId('tenant ID'),
              clientId: AzureId('client ID of the application'),
              clientSecretRef: SecretKeyRefSchema,
            },
            { additionalProperties: false },
          ),
        ),
        /**
         * Development only: a placeholder bearer token, for emulators (such as Lowkey Vault)
         * that accept any token. Real Key Vault refuses it.
         */
        emulator: Type.Optional(Type.Object({}, { additionalProperties: false })),
      },
      { additionalProperties: false, default: {} },
    ),
  },
  { additionalProperties: false },
);

// ---------------------------------------------------------------------------------------------
// Certificate issuers (VaultCertificate.spec.issuer.backend): vault-pki and local-ca. Listed under
// `backends` like the secret backends; the loader hands them to `Config.issuers`.

/**
 * What an issuer certifies for a namespace, checked before any key is signed (both issuer types,
 * VaultCertificates and the API alike). Syntax in `name-patterns.ts`, checked in `load.ts`.
 * The defaults keep each namespace inside its own service domain.
 */
const issuerNamePolicyFields = {
  /**
   * DNS names, the common name and the domain of email addresses: `*` one label, `**` (first
   * label only) one or more, `{namespace}` the resource's namespace, as a whole label.
   */
  allowedDomains: Type.Array(
    Type.String({
      pattern: '^[-a-z0-9_.*{}]{1,253}$',
      errorMessage: 'must be a lower-case domain pattern such as "*.{namespace}.svc" or "**.example.com"',
    }),
    {
      default: ['**.{namespace}.svc', '**.{namespace}.svc.cluster.local'],
      errorMessage: 'must be a list of domain patterns, e.g. ["**.{namespace}.svc"]',
    },
  ),
  /** URI SANs: segments split by "/", `*` one segment, `**` (last only) one or more. */
  allowedUriSans: Type.Array(
    Type.String({
      pattern: '^[a-z][-a-z0-9+.]*://[-A-Za-z0-9._~:/*{}]*$',
      maxLength: 512,
      errorMessage: 'must be a URI pattern such as "spiffe://cluster.local/ns/{namespace}/**"',
    }),
    {
      default: ['spiffe://cluster.local/ns/{namespace}/**'],
      errorMessage: 'must be a list of URI patterns, e.g. ["spiffe://cluster.local/ns/{namespace}/**"]',
    },
  ),
  /** IP SANs: CIDRs or single addresses. Default: none. */
  allowedIpRanges: Type.Array(
    Type.String({
      pattern: '^[0-9A-Fa-f:.]{2,45}(/[0-9]{1,3})?$',
      errorMessage: 'must be a CIDR such as "10.0.0.0/8" or "fd00::/8", or one address',
    }),
    { default: [], errorMessage: 'must be a list of CIDRs, e.g. ["10.0.0.0/8"] (default: none)' },
  ),
};

const issuerCommonFields = {
  name: commonBackendFields.name,
  allowedNamespaces: commonBackendFields.allowedNamespaces,
  rateLimit: RateLimitSchema,
  circuitBreaker: CircuitBreakerSchema,
  /** Per-request timeout. */
  timeout: Duration('10s'),
};

export const VaultPkiIssuerSchema = Type.Object(
  {
    type: Type.Literal('vault-pki'),
    ...issuerCommonFields,
    address: VaultBackendSchema.properties.address,
    namespace: VaultBackendSchema.properties.namespace,
    tls: VaultBackendSchema.properties.tls,
    auth: VaultAuthSchema,
    pki: Type.Object({ mount: MountPath('pki') }, { additionalProperties: false, default: {} }),
    /**
     * Roles (`spec.issuer.role`) resources may use; globs, `{namespace}` templated (a whole
     * name or set off by "." / "_", checked in `load.ts`).
     */
    allowedRoles: Type.Array(PathGlob, {
      minItems: 1,
      default: ['*'],
      errorMessage: 'must list at least one role glob, e.g. ["web", "{namespace}.*"]',
    }),
    ...issuerNamePolicyFields,
  },
  { additionalProperties: false },
);

export const LocalCaIssuerSchema = Type.Object(
  {
    type: Type.Literal('local-ca'),
    name: commonBackendFields.name,
    allowedNamespaces: commonBackendFields.allowedNamespaces,
    ca: Type.Object(
      {
        /** Secret (kubernetes.io/tls: tls.crt, tls.key) holding the CA; default namespace operator.namespace. */
        secretName: DnsSubdomain({ default: 'vaultsync-local-ca' }),
        namespace: Type.Optional(DnsLabel()),
        /** Create the CA Secret when it does not exist; false: it must be provided. */
        create: Type.Boolean({ default: true, errorMessage: 'must be true or false' }),
        /** Subject CN of a created CA. */
        commonName: Type.String({
          minLength: 1,
          maxLength: 64,
          default: 'vaultsync local CA',
          errorMessage: 'must be 1 to 64 characters',
        }),
        /** Validity of a created CA. */
        duration: Duration('87600h'),
        /** Key of a created CA. */
        keyAlgorithm: OneOf(['ECDSA', 'RSA', 'Ed25519'] as const, 'ECDSA'),
      },
      { additionalProperties: false, default: {} },
    ),
    /** Longest certificate the CA signs; longer requests fail with InvalidRequest. */
    maxDuration: Duration('8760h'),
    ...issuerNamePolicyFields,
    /**
     * Sign CA certificates (a VaultCertificate with isCA: true; never through the API): with
     * basic constraints CA:TRUE and path length 0. Default false: every certificate is CA:FALSE.
     */
    allowCA: Type.Boolean({ default: false, errorMessage: 'must be true or false' }),
  },
  { additionalProperties: false },
);

// ---------------------------------------------------------------------------------------------
// Embedded HTTP API, audit log, lifecycle webhooks

export const ApiSchema = Type.Object(
  {
    /** HTTPS listen address of the API; `0` switches it off. */
    address: ListenAddress(':8443'),
    tls: Type.Object(
      {
        /**
         * Serving certificate and key (PEM files, e.g. a mounted kubernetes.io/tls Secret; re-read
         * when they change). Left out: a certificate from a CA made in memory at start-up.
         */
        certFile: Type.Optional(FilePath()),
        keyFile: Type.Optional(FilePath()),
        /**
         * With certFile/keyFile: the CA bundle that verifies them (e.g. the Secret's `ca.crt`),
         * published in the ConfigMap `vaultsync-api-ca` for clients. Left out: nothing published.
         */
        caFile: Type.Optional(FilePath()),
        /** Extra names for the generated certificate (the Service's names are always included). */
        dnsNames: Type.Array(DnsSubdomain(), { default: [] }),
      },
      { additionalProperties: false, default: {} },
    ),
    /**
     * The audience a caller's token must be issued for (`kubectl create token <sa> --audience
     * vaultsync`); a token for any other audience, such as the kube-apiserver's, is refused.
     */
    audience: Type.String({
      minLength: 1,
      maxLength: 253,
      pattern: '^\\S+$',
      default: 'vaultsync',
      errorMessage: 'must be a token audience without spaces, such as vaultsync',
    }),
    /** Largest request body in bytes. */
    bodyLimit: Type.Integer({ minimum: 1024, maximum: 16 * 1024 * 1024, default: 1024 * 1024 }),
    /** Longest a request may take, backend calls included. */
    requestTimeout: Duration('30s'),
    /** Per authenticated caller, checked before the SubjectAccessReview and the body. */
    rateLimit: Type.Object(
      {
        /** Requests per window. */
        max: Type.Integer({ minimum: 1, maximum: 100_000, default: 60 }),
        window: Duration('1m'),
        /**
         * Per source address, for requests not already authenticated by a cached token (no
         * token, an unknown or a bad one): checked before any TokenReview is sent.
         */
        unauthenticated: Type.Object(
          {
            max: Type.Integer({ minimum: 1, maximum: 100_000, default: 30 }),
            window: Duration('1m'),
          },
          { additionalProperties: false, default: {} },
        ),
      },
      { additionalProperties: false, default: {} },
    ),
    /** How long a TokenReview or SubjectAccessReview decision is reused (never past the token's expiry). */
    authCacheTtl: Duration('10s'),
    /** Serve secret values (`GET .../secrets/{path}`, `secrets:batchGet`). Off by default. */
    secretReads: Type.Boolean({ default: false, errorMessage: 'must be true or false' }),
    /** Accept new values (`PUT .../secrets/{path}`) for backends that can write. Off by default. */
    secretWrites: Type.Boolean({ default: false, errorMessage: 'must be true or false' }),
    /**
     * Accept deletes (`DELETE .../secrets/{path}`): each backend's recoverable delete, for
     * backends that can delete. Off by default.
     */
    secretDeletes: Type.Boolean({ default: false, errorMessage: 'must be true or false' }),
    /**
     * The same API over gRPC (proto/vaultsync/v1/api.proto), with the same certificate, tokens,
     * RBAC checks, limits and audit lines. `address` is its listen address; `0` (the default)
     * leaves it off.
     */
    grpc: Type.Object({ address: ListenAddress('0') }, { additionalProperties: false, default: {} }),
    /** Most paths one batchGet may name, and how many of them are read at once. */
    batchGet: Type.Object(
      {
        maxItems: Type.Integer({ minimum: 1, maximum: 1000, default: 100 }),
        concurrency: Type.Integer({ minimum: 1, maximum: 256, default: 32 }),
      },
      { additionalProperties: false, default: {} },
    ),
  },
  { additionalProperties: false, default: {} },
);

export const AuditSchema = Type.Object(
  {
    /** Where audit lines go: the operator's stdout (tagged `"audit": true`), a file, or nowhere. */
    sink: OneOf(['stdout', 'file', 'off'] as const, 'stdout'),
    /** For `sink: file`. */
    path: Type.Optional(FilePath()),
    /**
     * For `sink: file`: the file is rotated once it reaches this many bytes (`audit.log` →
     * `audit.log.1` …), keeping `maxFiles` files in all; the defaults (10 MiB × 5) fit the
     * chart's 64 MiB emptyDir at /tmp.
     */
    maxSize: Type.Integer({ minimum: 1024, maximum: 1024 * 1024 * 1024, default: 10 * 1024 * 1024 }),
    /** For `sink: file`: files kept, the one being written included (oldest removed). */
    maxFiles: Type.Integer({ minimum: 2, maximum: 100, default: 5 }),
    /**
     * Refuse an API call (503 AuditUnavailable) when its audit line cannot be written, and any
     * further call while the sink is failing, so nothing is done or read unaudited. Off: the call
     * is answered and the failed line is reported in the operator log.
     */
    failClosed: Type.Boolean({ default: false, errorMessage: 'must be true or false' }),
  },
  { additionalProperties: false, default: {} },
);

export const LIFECYCLE_EVENTS = [
  'synced',
  'sync_failed',
  'rotated',
  'rotation_failed',
  'certificate_issued',
  'certificate_renewed',
  'certificate_failed',
  'certificate_expiring',
] as const;

/** Shortest webhook signing key accepted (inline or in its file). */
export const MIN_SIGNING_KEY_BYTES = 32;

export const WebhookReceiverSchema = Type.Object(
  {
    name: DnsLabel(),
    /** Where events are POSTed: `https://`; `http://` only with `insecure: true`. */
    url: EndpointUrl('https://hooks.example.com/vaultsync'),
    /** Allows an `http://` url (development only): events and their signatures travel in the clear. */
    insecure: Type.Boolean({ default: false, errorMessage: 'must be true or false' }),
    /** Events sent to this receiver (default: all). */
    events: Type.Array(OneOf(LIFECYCLE_EVENTS), { minItems: 1, default: [...LIFECYCLE_EVENTS] }),
    /** Only events of resources in these namespaces (globs; default all). */
    namespaces: Type.Array(NamespaceGlob, { minItems: 1, default: ['*'] }),
    /** HMAC-SHA256 signing key, at least 32 bytes: a file (a mounted Secret), or inline for development. */
    signingKeyFile: Type.Optional(FilePath()),
    signingKey: Type.Optional(
      SensitiveString(
        MIN_SIGNING_KEY_BYTES,
        `must be at least ${MIN_SIGNING_KEY_BYTES} characters (a random key, e.g. openssl rand -hex 32)`,
      ),
    ),
    /** Extra CA bundle to trust for an https receiver. */
    caFile: Type.Optional(FilePath()),
    /** Longest one delivery attempt may take (connect, send, response headers). */
    timeout: Duration('5s'),
    /** Attempts per event before it is given up (counted in metrics). */
    maxAttempts: Type.Integer({ minimum: 1, maximum: 100, default: 8 }),
    /** Delay between attempts: exponential from initialDelay, capped at maxDelay, with jitter. */
    retry: Type.Object(
      {
        initialDelay: Duration('1s'),
        maxDelay: Duration('1m'),
      },
      { additionalProperties: false, default: {} },
    ),
  },
  { additionalProperties: false },
);

export const WebhooksSchema = Type.Object(
  {
    /** Events waiting per receiver; beyond it the oldest are dropped (counted in metrics). */
    queueSize: Type.Integer({ minimum: 1, maximum: 1_000_000, default: 1000 }),
    /** How long before notAfter `certificate_expiring` is sent (once per certificate and notAfter). */
    expiringWithin: Duration('168h'),
    receivers: Type.Array(WebhookReceiverSchema, { default: [] }),
  },
  { additionalProperties: false, default: {} },
);

/** Certificate issuer types, each with its schema (configured under `backends`). */
export const ISSUER_SCHEMAS = {
  'vault-pki': VaultPkiIssuerSchema,
  'local-ca': LocalCaIssuerSchema,
} as const satisfies Record<string, TSchema>;

/** Backend types implemented now, each with its schema. */
export const BACKEND_SCHEMAS = {
  vault: VaultBackendSchema,
  kubernetes: KubernetesBackendSchema,
  memory: MemoryBackendSchema,
  'aws-secrets-manager': AwsBackendSchema,
  'gcp-secret-manager': GcpBackendSchema,
  'azure-key-vault': AzureBackendSchema,
} as const satisfies Record<string, TSchema>;

/** Backend types the config recognises but this version does not implement yet. */
export const PLANNED_BACKEND_TYPES = [] as const;

/** The shape checked first: backends are validated one by one against the schema of their type. */
export const ConfigShapeSchema = Type.Object(
  {
    operator: OperatorSchema,
    backends: Type.Array(Type.Unknown(), { minItems: 1, errorMessage: 'must list at least one backend' }),
    api: ApiSchema,
    audit: AuditSchema,
    webhooks: WebhooksSchema,
  },
  { additionalProperties: false },
);

// ---------------------------------------------------------------------------------------------
// Types (decoded: durations in milliseconds, inline secrets as Sensitive)

/** Read-only all the way down (the loaded config is deeply frozen); `Sensitive` kept as is. */
export type DeepReadonly<T> = T extends Sensitive<unknown> | Uint8Array
  ? T
  : T extends readonly (infer U)[]
    ? readonly DeepReadonly<U>[]
    : T extends object
      ? { readonly [K in keyof T]: DeepReadonly<T[K]> }
      : T;

export type OperatorConfig = DeepReadonly<StaticDecode<typeof OperatorSchema>>;
export type ApiConfig = DeepReadonly<StaticDecode<typeof ApiSchema>>;
export type AuditConfig = DeepReadonly<StaticDecode<typeof AuditSchema>>;
export type WebhooksConfig = DeepReadonly<StaticDecode<typeof WebhooksSchema>>;
export type WebhookReceiverConfig = DeepReadonly<StaticDecode<typeof WebhookReceiverSchema>>;
export type LifecycleEventType = (typeof LIFECYCLE_EVENTS)[number];
export type LeaderElectionConfig = DeepReadonly<StaticDecode<typeof LeaderElectionSchema>>;
export type LogLevel = (typeof LOG_LEVELS)[number];
export type SecretKeyRef = DeepReadonly<StaticDecode<typeof SecretKeyRefSchema>>;
export type VaultAuthConfig = DeepReadonly<StaticDecode<typeof VaultAuthSchema>>;
export type VaultTokenAuthConfig = DeepReadonly<StaticDecode<typeof VaultTokenAuthSchema>>;
export type VaultAppRoleAuthConfig = DeepReadonly<StaticDecode<typeof VaultAppRoleAuthSchema>>;
export type VaultKubernetesAuthConfig = DeepReadonly<StaticDecode<typeof VaultKubernetesAuthSchema>>;
export type VaultBackendConfig = DeepReadonly<StaticDecode<typeof VaultBackendSchema>>;
export type KubernetesBackendConfig = DeepReadonly<StaticDecode<typeof KubernetesBackendSchema>>;
export type MemoryBackendConfig = DeepReadonly<StaticDecode<typeof MemoryBackendSchema>>;
export type AwsBackendConfig = DeepReadonly<StaticDecode<typeof AwsBackendSchema>>;
export type GcpBackendConfig = DeepReadonly<StaticDecode<typeof GcpBackendSchema>>;
export type AzureBackendConfig = DeepReadonly<StaticDecode<typeof AzureBackendSchema>>;
export type VaultPkiIssuerConfig = DeepReadonly<StaticDecode<typeof VaultPkiIssuerSchema>>;
export type LocalCaIssuerConfig = DeepReadonly<StaticDecode<typeof LocalCaIssuerSchema>>;
/** Certificate issuers, discriminated on `type`. */
export type IssuerConfig = VaultPkiIssuerConfig | LocalCaIssuerConfig;
/** Discriminated on `type`. */
export type BackendConfig =
  | VaultBackendConfig
  | KubernetesBackendConfig
  | MemoryBackendConfig
  | AwsBackendConfig
  | GcpBackendConfig
  | AzureBackendConfig;
export type BackendType = BackendConfig['type'];

export interface Config {
  readonly operator: OperatorConfig;
  readonly backends: readonly BackendConfig[];
  /** Certificate issuers (vault-pki, local-ca), from the same `backends` list. */
  readonly issuers?: readonly IssuerConfig[];
  /** Embedded HTTP API (defaults filled in when left out). */
  readonly api?: ApiConfig;
  readonly audit?: AuditConfig;
  readonly webhooks?: WebhooksConfig;
}
