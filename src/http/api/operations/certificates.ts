// One-off certificates through a configured issuer: issue (the issuer makes the key) or sign a
// CSR. The request is checked by the VaultCertificate spec rules (the same validation the CRD
// applies at admission, CEL rules included) and the issuer's guard applies its tenancy rules;
// CA certificates cannot be asked for here.
import { Type } from '@sinclair/typebox';
import { type VaultCertificate, validateSpec } from '../../../apis/v1alpha1/index.ts';
import { desiredCertificate } from '../../../controllers/vaultcertificate/spec.ts';
import type { CertificateOrder, IssuedCertificate, IssuerRegistry } from '../../../issuers/index.ts';
import { certificateInfo } from '../../../pki/index.ts';
import { ApiError } from '../errors.ts';
import { BackendName, IssueBody, Namespace, SignBody } from '../schemas.ts';
import type { Operation } from './types.ts';

/** The fields of a VaultCertificate spec the caller asks for (and, to sign, its CSR). */
export type CertificateFields = Record<string, unknown> & {
  role?: string;
  csr?: string;
  privateKey?: { algorithm?: string; size?: number };
};
export interface CertificateInput {
  readonly namespace: string;
  readonly issuer: string;
  readonly fields: CertificateFields;
}
export interface CertificateAnswer {
  certificate: string;
  chain: string[];
  ca: string;
  privateKey?: string;
  serialNumber: string;
  notBefore: string;
  notAfter: string;
  warnings: string[];
}

/** The fields as the spec of a VaultCertificate, validated by the CRD's rules. */
function desiredFrom(issuer: string, mode: 'issue' | 'sign', body: CertificateFields) {
  const { role, csr: _csr, ...fields } = body;
  const spec = {
    ...fields,
    issuer: { backend: issuer, ...(role !== undefined && { role }) },
    mode,
    secretName: 'api-request',
  };
  const problems = validateSpec('VaultCertificate', spec);
  if (problems.length > 0) {
    throw new ApiError('BadRequest', problems.map((p) => p.replace(/^spec\./, '')).join('; '));
  }
  return desiredCertificate({ spec } as unknown as VaultCertificate);
}

function answer(issued: IssuedCertificate): CertificateAnswer {
  let info;
  try {
    info = certificateInfo(issued.certificatePem);
  } catch {
    throw new ApiError('BackendUnavailable', 'the issuer returned a certificate that cannot be read');
  }
  return {
    certificate: issued.certificatePem,
    chain: [...issued.chainPem],
    ca: issued.caPem,
    ...(issued.privateKeyPem && { privateKey: issued.privateKeyPem.reveal() }),
    serialNumber: info.serialNumber,
    notBefore: info.notBefore.toISOString(),
    notAfter: info.notAfter.toISOString(),
    warnings: [...issued.warnings],
  };
}

function certificateOperation(
  deps: { issuers: IssuerRegistry },
  mode: 'issue' | 'sign',
): Operation<CertificateInput, CertificateAnswer> {
  return {
    action: `certificates.${mode}`,
    access: (p) => ({
      verb: 'create',
      resource: 'issuers',
      subresource: mode,
      namespace: p.namespace,
      name: p.issuer,
    }),
    schema: {
      params: Type.Object({ namespace: Namespace, issuer: BackendName }),
      body: mode === 'issue' ? IssueBody : SignBody,
    },
    async run({ namespace, issuer: name, fields }, ctx) {
      const issuer = deps.issuers.get(name);
      if (!issuer) throw new ApiError('NotFound', `issuer "${name}" is not in the operator configuration`);
      const desired = desiredFrom(name, mode, fields);
      const order: CertificateOrder = {
        ...desired.request,
        ...(desired.durationMs !== undefined && { durationMs: desired.durationMs }),
        ...(desired.issuer.role !== undefined && { role: desired.issuer.role }),
      };
      const call = { namespace, ...(ctx.signal && { signal: ctx.signal }) };
      const issued =
        mode === 'issue'
          ? await issuer.issue({ ...order, key: desired.key }, call)
          : await issuer.sign({ ...order, csr: String(fields.csr) }, call);
      const result = answer(issued);
      ctx.audit({
        resource: `Certificate/${result.serialNumber}`,
        backend: name,
        detail: { notAfter: result.notAfter, names: [...desired.request.dnsNames] },
      });
      return result;
    },
  };
}

export const certificateOperations = (deps: { issuers: IssuerRegistry }) => ({
  issue: certificateOperation(deps, 'issue'),
  sign: certificateOperation(deps, 'sign'),
});
