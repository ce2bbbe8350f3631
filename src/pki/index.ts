// Keys, CSRs, certificate parsing and local CA signing. Nothing here knows about Kubernetes.
export {
  DEFAULT_KEY,
  KeyFormatError,
  type KeyAlgorithm,
  type KeySpec,
  PrivateKey,
  describeKeySpec,
  generatePrivateKey,
  keySpecEqual,
  normalizeKeySpec,
  parsePrivateKeyPem,
} from './keys.ts';
export { type RsaKeyGenerator, RsaWorkerPool, type RsaWorkerPoolOptions } from './rsa-pool.ts';
export { type CertificateRequestSpec, type CertificateSubject, createCsr } from './csr.ts';
export {
  type CertificateInfo,
  CertificateFormatError,
  certificateInfo,
  colonSerial,
  normalizeIp,
  parseCertificate,
  splitPemCertificates,
} from './parse.ts';
export {
  type CertificateAuthority,
  CsrError,
  createSelfSignedCa,
  randomSerial,
  signCsr,
} from './local-ca.ts';
