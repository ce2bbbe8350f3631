// One-off certificates through a configured issuer: issue (the issuer makes the key) or sign a
// CSR. The request is checked by the VaultCertificate spec rules (the same validation the CRD
// applies at admission, CEL rules included) and the issuer's guard applies its tenancy rules;
// CA certificates cannot be asked for here.
import type { FastifyInstance } from 'fastify';
import { type VaultCertificate, validateSpec } from '../../../apis/v1alpha1/index.ts';
import { desiredCertificate } from '../../../controllers/vaultcertificate/spec.ts';
import type { CertificateOrder, IssuedCertificate, IssuerRegistry } from '../../../issuers/index.ts';
import { certificateInfo } from '../../../pki/index.ts';
import type { RouteAccess, RouteParams } from '../access.ts';
import { ApiError } from '../errors.ts';
import { BackendName, CertificateResponse, IssueBody, Namespace, SignBody, responses } from '../schemas.ts';

type Body = Record<string, unknown> & {
  role?: string;
  csr?: string;
  privateKey?: { algorithm?: string; size?: number };
};

/** The body as the spec of a VaultCertificate, validated by the CRD's rules. */
function desiredFrom(issuer: string, mode: 'issue' | 'sign', body: Body) {
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

function answer(issued: IssuedCertificate) {
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

export function registerCertificateRoutes(app: FastifyInstance, deps: { issuers: IssuerRegistry }): void {
  const issuerOf = (name: string) => {
    const issuer = deps.issuers.get(name);
    if (!issuer) throw new ApiError('NotFound', `issuer "${name}" is not in the operator configuration`);
    return issuer;
  };
  const params = { type: 'object', properties: { namespace: Namespace, issuer: BackendName } };
  const access = (subresource: 'issue' | 'sign') => (p: RouteParams) => ({
    verb: 'create' as const,
    resource: 'issuers',
    subresource,
    namespace: p.namespace,
    name: p.issuer,
  });

  for (const mode of ['issue', 'sign'] as const) {
    app.post<{ Params: { namespace: string; issuer: string }; Body: Body }>(
      `/v1/namespaces/:namespace/issuers/:issuer/certificates::${mode}`,
      {
        schema: {
          summary:
            mode === 'issue'
              ? 'Issue a certificate; the issuer makes the key and returns it once'
              : 'Sign a certificate request (PEM CSR); the key stays with the caller',
          tags: ['certificates'],
          params,
          body: mode === 'issue' ? IssueBody : SignBody,
          response: responses({ 200: CertificateResponse }),
        },
        config: { action: `certificates.${mode}`, access: access(mode) } satisfies RouteAccess,
      },
      async (req) => {
        const { namespace, issuer: name } = req.params;
        const issuer = issuerOf(name);
        const desired = desiredFrom(name, mode, req.body);
        const order: CertificateOrder = {
          ...desired.request,
          ...(desired.durationMs !== undefined && { durationMs: desired.durationMs }),
          ...(desired.issuer.role !== undefined && { role: desired.issuer.role }),
        };
        const ctx = { namespace, ...(req.abortSignal && { signal: req.abortSignal }) };
        const issued =
          mode === 'issue'
            ? await issuer.issue({ ...order, key: desired.key }, ctx)
            : await issuer.sign({ ...order, csrPem: String(req.body.csr) }, ctx);
        const result = answer(issued);
        req.auditDetail = {
          resource: `Certificate/${result.serialNumber}`,
          backend: name,
          detail: { notAfter: result.notAfter, names: [...desired.request.dnsNames] },
        };
        return result;
      },
    );
  }
}
