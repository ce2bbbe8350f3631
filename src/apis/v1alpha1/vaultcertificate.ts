// VaultCertificate: generate a key in the cluster (or have the backend make one), have it signed,
// store a kubernetes.io/tls Secret and renew it before it expires.
import { Type } from '@sinclair/typebox';
import type { Static } from '@sinclair/typebox';
import type { V1ObjectMeta } from '@kubernetes/client-node';
import { isIP } from 'node:net';
import {
  AGE_COLUMN,
  BackendName,
  CATEGORIES,
  Conditions,
  DnsSubdomain,
  Duration,
  KEY_DEFAULTS,
  KeyAlgorithmSchema,
  KeySize,
  ObservedGeneration,
  READY_COLUMNS,
  RolloutRestartTargetsSchema,
  StringEnum,
  StringMap,
  Timestamp,
  cel,
  celIsDuration,
  durationAtLeast,
  keySizeRules,
} from './common.ts';
import type { KindDefinition } from './common.ts';
import { isDuration, parseDuration } from './duration.ts';

export const CERTIFICATE_MODES = ['sign', 'issue'] as const;
export const ROTATION_POLICIES = ['Always', 'Never'] as const;
export const KEY_USAGES = [
  'signing',
  'digital signature',
  'content commitment',
  'key encipherment',
  'key agreement',
  'data encipherment',
  'cert sign',
  'crl sign',
  'encipher only',
  'decipher only',
  'any',
  'server auth',
  'client auth',
  'code signing',
  'email protection',
  's/mime',
  'ipsec end system',
  'ipsec tunnel',
  'ipsec user',
  'timestamping',
  'ocsp signing',
  'microsoft sgc',
  'netscape sgc',
] as const;
export const OUTPUT_FORMATS = ['CombinedPEM', 'DER'] as const;

/** Effective values of optional fields; the operator applies them, the schema has no defaults. */
export const VAULT_CERTIFICATE_DEFAULTS = {
  mode: 'sign',
  duration: '2160h',
  /** Used when neither renewBefore nor renewBeforePercentage is set. */
  renewBeforePercentage: 33,
  privateKey: {
    algorithm: KEY_DEFAULTS.algorithm,
    size: KEY_DEFAULTS.size,
    rotationPolicy: 'Always',
    encoding: 'PKCS8',
  },
  usages: ['digital signature', 'key encipherment', 'server auth'],
  isCA: false,
  revokeSuperseded: false,
  revokeOnDelete: false,
} as const;

function names(description: string, item: ReturnType<typeof Type.String>, maxItems = 100) {
  return Type.Array(item, { description, maxItems, 'x-kubernetes-list-type': 'set' });
}

function subjectList(description: string) {
  return Type.Array(Type.String({ description: 'One value.', minLength: 1, maxLength: 128 }), {
    description,
    maxItems: 16,
  });
}

const PrivateKeySchema = Type.Object(
  {
    algorithm: Type.Optional(
      KeyAlgorithmSchema(
        `Key algorithm: RSA, ECDSA or Ed25519. Default: ${KEY_DEFAULTS.algorithm}. ` +
          "In mode issue the backend's configuration decides the key where it cannot honour this " +
          "(Vault PKI uses the role's key_type and key_bits).",
      ),
    ),
    size: Type.Optional(
      KeySize(
        'Key size in bits: 2048, 3072 or 4096 for RSA (default 2048); the curve for ECDSA, 256 (P-256, default) ' +
          'or 384 (P-384); not set for Ed25519.',
      ),
    ),
    rotationPolicy: Type.Optional(
      StringEnum([...ROTATION_POLICIES], {
        description:
          'Always: a new key for every issuance. Never: the key in the Secret is reused for renewals ' +
          `(mode sign only). Default: ${VAULT_CERTIFICATE_DEFAULTS.privateKey.rotationPolicy}.`,
      }),
    ),
    encoding: Type.Optional(
      StringEnum(['PKCS8'], { description: 'Encoding of tls.key. Only PKCS8 (PEM) is supported for now.' }),
    ),
  },
  { description: 'The private key of the certificate.', 'x-kubernetes-validations': keySizeRules },
);

const SubjectSchema = Type.Object(
  {
    organizations: Type.Optional(subjectList('Organizations (O).')),
    organizationalUnits: Type.Optional(subjectList('Organizational units (OU).')),
    countries: Type.Optional(subjectList('Countries (C), as two-letter codes.')),
    localities: Type.Optional(subjectList('Localities or cities (L).')),
    provinces: Type.Optional(subjectList('States or provinces (ST).')),
  },
  {
    description: 'Subject fields besides the common name. The backend may override them (e.g. a Vault role).',
  },
);

interface SpecLike {
  commonName?: string;
  dnsNames?: string[];
  ipAddresses?: string[];
  uris?: string[];
  emailAddresses?: string[];
  duration?: string;
  renewBefore?: string;
  renewBeforePercentage?: number;
  mode?: string;
  privateKey?: { rotationPolicy?: string };
}

const nonEmpty = (xs: unknown[] | undefined): boolean => (xs?.length ?? 0) > 0;

export const VaultCertificateSpecSchema = Type.Object(
  {
    issuer: Type.Object(
      {
        backend: BackendName(
          'Name of a PKI backend in the operator configuration, e.g. vault-pki or local-ca.',
        ),
        role: Type.Optional(
          Type.String({
            description:
              'Role in the backend to sign or issue with (Vault PKI: the role name). Required by vault-pki.',
            minLength: 1,
            maxLength: 128,
          }),
        ),
      },
      { description: 'Who signs the certificate.' },
    ),
    mode: Type.Optional(
      StringEnum([...CERTIFICATE_MODES], {
        description:
          'sign: the key is generated in the cluster and only a CSR is sent to the backend. ' +
          'issue: the backend generates the key and returns it with the certificate. ' +
          `Default: ${VAULT_CERTIFICATE_DEFAULTS.mode}.`,
      }),
    ),
    commonName: Type.Optional(
      Type.String({
        description:
          'Common name (CN) of the subject. At most 64 characters; prefer dnsNames for host names.',
        minLength: 1,
        maxLength: 64,
      }),
    ),
    dnsNames: Type.Optional(
      names(
        'DNS subject alternative names; a leading *. makes a wildcard.',
        Type.String({
          description: 'A DNS name.',
          maxLength: 253,
          pattern:
            '^([*][.])?[A-Za-z0-9]([-A-Za-z0-9]*[A-Za-z0-9])?([.][A-Za-z0-9]([-A-Za-z0-9]*[A-Za-z0-9])?)*$',
        }),
      ),
    ),
    ipAddresses: Type.Optional(
      names(
        'IP address subject alternative names.',
        Type.String({
          description: 'An IPv4 or IPv6 address.',
          maxLength: 64,
          'x-kubernetes-validations': [
            cel<string>(
              'isIP(self)',
              'must be an IPv4 or IPv6 address such as 10.0.0.1 or fd00::1',
              (s) => isIP(s) !== 0 && !s.includes('%'),
            ),
          ],
        }),
        32,
      ),
    ),
    uris: Type.Optional(
      names(
        'URI subject alternative names, e.g. spiffe://cluster.local/ns/shop/sa/api.',
        Type.String({
          description: 'An absolute URI.',
          maxLength: 2048,
          'x-kubernetes-validations': [
            cel<string>(
              "isURL(self) && url(self).getScheme() != ''",
              'must be an absolute URI with a scheme, such as spiffe://cluster.local/ns/shop/sa/api',
              (s) => URL.canParse(s),
            ),
          ],
        }),
        32,
      ),
    ),
    emailAddresses: Type.Optional(
      names(
        'Email address subject alternative names.',
        Type.String({ description: 'An email address.', maxLength: 254, pattern: '^[^@ ]+@[^@ ]+$' }),
        32,
      ),
    ),
    subject: Type.Optional(SubjectSchema),
    duration: Type.Optional(
      // The floor is 2m, not cert-manager's 1h: short-lived certificates (minutes) are a real
      // pattern and the renewal tests need them; a renewal that would fall due at once is refused
      // by the operator (DurationNotGranted) rather than looped.
      Duration(
        'Requested validity of the certificate, e.g. 720h. At least 2m. When set, an issuer that grants less ' +
          '(a Vault role max_ttl) fails the issuance with reason DurationNotGranted rather than storing a shorter ' +
          `certificate. Default: left to the issuer: ${VAULT_CERTIFICATE_DEFAULTS.duration} (90 days) for local-ca, ` +
          "the role's ttl for vault-pki.",
        [durationAtLeast('2m', 'duration must be at least 2m')],
      ),
    ),
    renewBefore: Type.Optional(
      Duration(
        'Renew this long before the certificate expires, e.g. 240h. Must be shorter than duration. ' +
          'Set renewBefore or renewBeforePercentage, not both; with neither, the certificate is renewed ' +
          `when ${VAULT_CERTIFICATE_DEFAULTS.renewBeforePercentage}% of its lifetime is left.`,
        [durationAtLeast('1m', 'renewBefore must be at least 1m')],
      ),
    ),
    renewBeforePercentage: Type.Optional(
      Type.Integer({
        description:
          'Renew when this percentage of the lifetime is left (1 to 99), e.g. 33 renews after two thirds of it.',
        minimum: 1,
        maximum: 99,
      }),
    ),
    privateKey: Type.Optional(PrivateKeySchema),
    usages: Type.Optional(
      Type.Array(
        StringEnum([...KEY_USAGES], {
          description: 'A key usage or extended key usage, as in cert-manager.',
        }),
        {
          description: `Key usages and extended key usages requested. Default: ${VAULT_CERTIFICATE_DEFAULTS.usages.join(', ')}.`,
          maxItems: KEY_USAGES.length,
          'x-kubernetes-list-type': 'set',
        },
      ),
    ),
    isCA: Type.Optional(
      Type.Boolean({
        description:
          'Request a CA certificate. Only a local-ca issuer with allowCA: true grants it (basic constraints ' +
          'CA:true, path length 0); other issuers refuse it. Default: false.',
      }),
    ),
    secretName: DnsSubdomain(
      'Name of the kubernetes.io/tls Secret to write: tls.crt (certificate and chain), tls.key and ca.crt.',
    ),
    secretTemplate: Type.Optional(
      Type.Object(
        {
          labels: Type.Optional(StringMap('Labels added to the Secret.')),
          annotations: Type.Optional(StringMap('Annotations added to the Secret.')),
        },
        { description: 'Labels and annotations for the Secret.' },
      ),
    ),
    additionalOutputFormats: Type.Optional(
      Type.Array(
        Type.Object(
          {
            type: StringEnum([...OUTPUT_FORMATS], {
              description:
                'CombinedPEM: key and certificate chain in one PEM under tls-combined.pem. DER: the private key in DER under key.der.',
            }),
          },
          { description: 'An extra output format.' },
        ),
        {
          description: 'Extra keys written to the Secret besides tls.crt, tls.key and ca.crt.',
          maxItems: OUTPUT_FORMATS.length,
          'x-kubernetes-list-type': 'map',
          'x-kubernetes-list-map-keys': ['type'],
        },
      ),
    ),
    revokeSuperseded: Type.Optional(
      Type.Boolean({
        description:
          'Revoke the previous certificate at the backend once its replacement is stored. Default: false.',
      }),
    ),
    revokeOnDelete: Type.Optional(
      Type.Boolean({
        description:
          'Revoke the current certificate at the backend when this resource is deleted. Default: false.',
      }),
    ),
    rolloutRestartTargets: Type.Optional(RolloutRestartTargetsSchema),
  },
  {
    description: 'Desired state of the VaultCertificate.',
    'x-kubernetes-validations': [
      cel<SpecLike>(
        'has(self.commonName) || (has(self.dnsNames) && size(self.dnsNames) > 0) || ' +
          '(has(self.ipAddresses) && size(self.ipAddresses) > 0) || (has(self.uris) && size(self.uris) > 0) || ' +
          '(has(self.emailAddresses) && size(self.emailAddresses) > 0)',
        'the certificate has no name: set at least one of commonName, dnsNames, ipAddresses, uris or emailAddresses',
        (s) =>
          s.commonName !== undefined ||
          nonEmpty(s.dnsNames) ||
          nonEmpty(s.ipAddresses) ||
          nonEmpty(s.uris) ||
          nonEmpty(s.emailAddresses),
      ),
      cel<SpecLike>(
        '!has(self.renewBefore) || !has(self.renewBeforePercentage)',
        'set renewBefore or renewBeforePercentage, not both',
        (s) => s.renewBefore === undefined || s.renewBeforePercentage === undefined,
      ),
      cel<SpecLike>(
        `!has(self.renewBefore) || !has(self.duration) || !${celIsDuration('self.renewBefore')} || ` +
          `!${celIsDuration('self.duration')} || duration(self.renewBefore) < duration(self.duration)`,
        'renewBefore must be shorter than duration, or the certificate would be renewed as soon as it is issued',
        (s) =>
          s.renewBefore === undefined ||
          s.duration === undefined ||
          !isDuration(s.renewBefore) ||
          !isDuration(s.duration) ||
          parseDuration(s.renewBefore) < parseDuration(s.duration),
        { fieldPath: '.renewBefore' },
      ),
      cel<SpecLike>(
        "!(has(self.mode) && self.mode == 'issue' && has(self.privateKey) && has(self.privateKey.rotationPolicy) && self.privateKey.rotationPolicy == 'Never')",
        'privateKey.rotationPolicy Never cannot be used with mode issue: the backend generates a new key on every issue; use mode sign to keep the key, or rotationPolicy Always',
        (s) => !(s.mode === 'issue' && s.privateKey?.rotationPolicy === 'Never'),
        { fieldPath: '.privateKey.rotationPolicy' },
      ),
    ],
  },
);

export const VaultCertificateStatusSchema = Type.Object(
  {
    conditions: Type.Optional(
      Conditions(
        'Current state: Ready (a valid, up-to-date certificate is in the Secret) and Issuing (a new certificate ' +
          'is being requested; its reason says why).',
      ),
    ),
    observedGeneration: Type.Optional(
      ObservedGeneration('The metadata.generation the status was computed for.'),
    ),
    notBefore: Type.Optional(Timestamp('Start of the validity of the certificate in the Secret.')),
    notAfter: Type.Optional(Timestamp('Expiry of the certificate in the Secret.')),
    renewalTime: Type.Optional(Timestamp('When the operator will renew the certificate.')),
    serialNumber: Type.Optional(
      Type.String({
        description:
          'Serial number, in hex, of the certificate the operator last wrote to the Secret. With issuer, the only ' +
          'source of what revokeSuperseded and revokeOnDelete revoke (never the Secret, which its namespace may edit).',
        maxLength: 128,
      }),
    ),
    issuer: Type.Optional(
      Type.String({
        description:
          'The issuer that issued serialNumber: its backend name, or backend/role. Recorded by the operator ' +
          'with each certificate it writes; revocation goes to this issuer.',
        maxLength: 512,
      }),
    ),
    revision: Type.Optional(
      Type.Integer({
        description: 'Number of certificates issued for this resource; 1 for the first.',
        minimum: 0,
      }),
    ),
    failedIssuanceAttempts: Type.Optional(
      Type.Integer({
        description: 'Consecutive failed issuance attempts; reset on success. Drives the retry back-off.',
        minimum: 0,
      }),
    ),
    lastFailureTime: Type.Optional(Timestamp('When the last issuance attempt failed.')),
    renewNowHandled: Type.Optional(
      Type.String({
        description:
          'Digest (sha256:<base64url>) of the vaultsync.io/renew-now annotation value the last manual renewal ' +
          'answered, recorded with the new certificate; the value itself is not copied. Setting the annotation ' +
          'to any other value asks for one new certificate now.',
        maxLength: 256,
      }),
    ),
    certificateMAC: Type.Optional(
      Type.String({
        description:
          'Keyed HMAC of the certificate and key in the Secret; detects drift without storing the key.',
        maxLength: 256,
      }),
    ),
  },
  { description: 'Observed state of the VaultCertificate, written by the operator.' },
);

export type VaultCertificateSpec = Static<typeof VaultCertificateSpecSchema>;
export type VaultCertificateStatus = Static<typeof VaultCertificateStatusSchema>;
export type VaultCertificatePrivateKey = NonNullable<VaultCertificateSpec['privateKey']>;
export type CertificateMode = (typeof CERTIFICATE_MODES)[number];
export type KeyUsage = (typeof KEY_USAGES)[number];
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

export interface VaultCertificate {
  apiVersion: 'vaultsync.io/v1alpha1';
  kind: 'VaultCertificate';
  metadata: V1ObjectMeta;
  spec: VaultCertificateSpec;
  status?: VaultCertificateStatus;
}

export const vaultCertificateDefinition: KindDefinition<
  typeof VaultCertificateSpecSchema,
  typeof VaultCertificateStatusSchema
> = {
  kind: 'VaultCertificate',
  plural: 'vaultcertificates',
  singular: 'vaultcertificate',
  listKind: 'VaultCertificateList',
  shortNames: ['vcert'],
  categories: CATEGORIES,
  description:
    'VaultCertificate has a certificate signed or issued by a PKI backend, stores it with its key in a ' +
    'kubernetes.io/tls Secret and renews it before it expires.',
  printerColumns: [
    ...READY_COLUMNS,
    {
      name: 'Secret',
      type: 'string',
      jsonPath: '.spec.secretName',
      description: 'Secret holding the certificate.',
    },
    // Future times are strings: kubectl renders a future 'date' as <invalid>.
    {
      name: 'Expires',
      type: 'string',
      jsonPath: '.status.notAfter',
      description: 'Expiry of the certificate.',
    },
    {
      name: 'Renewal',
      type: 'string',
      jsonPath: '.status.renewalTime',
      description: 'When the certificate will be renewed.',
    },
    AGE_COLUMN,
  ],
  spec: VaultCertificateSpecSchema,
  status: VaultCertificateStatusSchema,
};
