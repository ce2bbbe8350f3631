// @peculiar/x509 with Node's WebCrypto as its provider. Everything in src/pki imports the
// library from here, so the Reflect metadata polyfill its dependency tsyringe requires
// (`reflect-metadata`, the one tsyringe names) is loaded before it.
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

// Node's webcrypto and the DOM Crypto type the library declares are the same API.
x509.cryptoProvider.set(webcrypto as never);

type CsrParams = Parameters<typeof x509.Pkcs10CertificateRequestGenerator.create>[0];
/** The key pair and signature algorithm types the library takes (DOM types, not in our lib). */
export type X509KeyPair = CsrParams['keys'];
export type X509SigningAlgorithm = CsrParams['signingAlgorithm'];
export type X509CryptoKey = X509KeyPair['privateKey'];

export { x509 };
