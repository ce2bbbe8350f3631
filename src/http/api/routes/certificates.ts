// One-off certificates over HTTPS (operations/certificates.ts does the work).
import type { FastifyInstance } from 'fastify';
import type { CertificateFields } from '../operations/certificates.ts';
import type { ApiOperations } from '../operations/index.ts';
import { CertificateResponse } from '../schemas.ts';
import { operationRoute } from './adapter.ts';

const SUMMARY = {
  issue: 'Issue a certificate; the issuer makes the key and returns it once',
  sign: 'Sign a certificate request (PEM CSR); the key stays with the caller',
};

export function registerCertificateRoutes(app: FastifyInstance, ops: ApiOperations['certificates']): void {
  for (const mode of ['issue', 'sign'] as const) {
    operationRoute(app, {
      method: 'POST',
      url: `/v1/namespaces/:namespace/issuers/:issuer/certificates::${mode}`,
      op: ops[mode],
      summary: SUMMARY[mode],
      tags: ['certificates'],
      ok: { 200: CertificateResponse },
      input: (req) => ({
        ...(req.params as { namespace: string; issuer: string }),
        fields: req.body as CertificateFields,
      }),
    });
  }
}
