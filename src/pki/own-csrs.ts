// CSRs this process built and signed itself, by their PEM text: reading one of them again (the
// controller's CSR goes straight to its issuer, whose policy check reads it) takes the object
// already built instead of parsing the PEM and verifying our own signature a second time — about
// half the CPU of an issuance's CSR work. Only a byte-identical PEM matches; each is taken once,
// and at most MAX_KEPT wait (an unread one is forgotten first-in, first-out).
import type { x509 } from './x509.ts';

export const MAX_KEPT = 256;

const built = new Map<string, x509.Pkcs10CertificateRequest>();

/** Remembers a CSR this process built and signed, under its PEM. */
export function rememberBuiltCsr(pem: string, csr: x509.Pkcs10CertificateRequest): void {
  built.set(pem, csr);
  if (built.size > MAX_KEPT) built.delete(built.keys().next().value!);
}

/** The CSR built here for exactly this PEM, once; undefined for any other text. */
export function takeBuiltCsr(pem: string): x509.Pkcs10CertificateRequest | undefined {
  const csr = built.get(pem);
  if (csr) built.delete(pem);
  return csr;
}
