export type {
  CertificateOrder,
  IssuedCertificate,
  Issuer,
  IssuerRegistry,
  IssuerType,
  IssueRequest,
  SignRequest,
} from './types.ts';
export { createIssuers, type IssuerDeps } from './registry.ts';
export { splitChain } from './chain.ts';
