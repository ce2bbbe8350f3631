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
export {
  BuiltCsr,
  type CertificateRequestSpec,
  type CertificateSubject,
  type CsrInput,
  createCsr,
  csrPem,
  subjectName,
} from './csr.ts';
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
  type LeafOptions,
  createSelfSignedCa,
  leafExtensions,
  randomSerial,
  signCsr,
} from './local-ca.ts';
export {
  type CsrRequest,
  CsrError,
  assertCsrWithinRequest,
  csrExcess,
  csrRequest,
  readCsr,
} from './csr-policy.ts';
