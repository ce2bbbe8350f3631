// The API's certificate authority: one CA for every replica, kept in the Secret
// `vaultsync-api-ca` in the operator's namespace (created on first start; replicas racing to
// create it end up reading the same one), and its certificate published in the ConfigMap of the
// same name for clients (`curl --cacert ca.crt`). Each replica signs its own serving
// certificate from it (tls.ts), so no serving key is ever stored. The CA may sign only leaf
// certificates (pathLen 0).
import type { V1ConfigMap, V1Secret } from '@kubernetes/client-node';
import { FieldManager } from '../../apis/v1alpha1/field-managers.ts';
import { PART_OF, PART_OF_LABEL } from '../../apis/v1alpha1/labels.ts';
import { type KubeClient, createObject, getObject, mergePatch } from '../../kube/client.ts';
import { isAlreadyExists } from '../../kube/errors.ts';
import { type PrivateKey, generatePrivateKey, parsePrivateKeyPem, randomSerial } from '../../pki/index.ts';
import { type X509CryptoKey, type X509KeyPair, type X509SigningAlgorithm, x509 } from '../../pki/x509.ts';

/** Name of both the Secret (CA key and certificate) and the ConfigMap (certificate only). */
export const API_CA_NAME = 'vaultsync-api-ca';
/** Key of the CA certificate in the Secret and in the ConfigMap. */
export const CA_CERT_KEY = 'ca.crt';
const CA_KEY_KEY = 'ca.key';
const FIELD_MANAGER = FieldManager.Api;
const DAY_MS = 24 * 60 * 60 * 1000;
const CA_LIFETIME_MS = 10 * 365 * DAY_MS;
const LABELS = { [PART_OF_LABEL]: PART_OF, 'app.kubernetes.io/component': 'api' };

export interface ApiCa {
  /** PEM of the CA certificate: what clients trust. */
  certPem: string;
  certificate: x509.X509Certificate;
  key: PrivateKey;
}

/** A new CA, valid for ten years (PEM certificate and PKCS#8 key). */
export async function createApiCa(
  namespace: string,
  now = Date.now(),
): Promise<{ certPem: string; keyPem: string }> {
  const key = await generatePrivateKey({ algorithm: 'ECDSA', size: 256 });
  const { keys, algorithm } = key.signingKeys();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerial(),
    name: [{ CN: [`vaultsync API CA (${namespace})`] }],
    notBefore: new Date(now - 60_000),
    notAfter: new Date(now + CA_LIFETIME_MS),
    keys: keys as X509KeyPair,
    signingAlgorithm: algorithm as X509SigningAlgorithm,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey as X509CryptoKey),
    ],
  });
  return { certPem: cert.toString('pem'), keyPem: key.pem().reveal() };
}

/**
 * The CA held in a Secret's data (base64 values), checked: a CA certificate, not expired, and
 * the key that belongs to it. Throws a message naming the Secret and what to do, never key bytes.
 */
export function parseApiCa(
  data: Readonly<Record<string, string>> | undefined,
  where: string,
  now = Date.now(),
): ApiCa {
  const unusable = (why: string) =>
    new Error(
      `Secret ${where} does not hold a usable API CA (${why}); delete it and restart to have a new one made`,
    );
  const certB64 = data?.[CA_CERT_KEY];
  const keyB64 = data?.[CA_KEY_KEY];
  if (!certB64 || !keyB64) throw unusable(`${CA_CERT_KEY} and ${CA_KEY_KEY} are required`);
  const certPem = Buffer.from(certB64, 'base64').toString('utf8');
  let certificate: x509.X509Certificate;
  try {
    certificate = new x509.X509Certificate(certPem);
  } catch {
    throw unusable(`${CA_CERT_KEY} is not a PEM certificate`);
  }
  let key: PrivateKey;
  try {
    key = parsePrivateKeyPem(Buffer.from(keyB64, 'base64'));
  } catch {
    throw unusable(`${CA_KEY_KEY} is not a PEM private key`);
  }
  if (!certificate.getExtension(x509.BasicConstraintsExtension)?.ca) throw unusable('not a CA certificate');
  if (certificate.notAfter.getTime() <= now) throw unusable(`expired ${certificate.notAfter.toISOString()}`);
  const certSpki = Buffer.from(certificate.publicKey.rawData);
  if (!certSpki.equals(key.spki())) throw unusable('the key does not belong to the certificate');
  return { certPem: certificate.toString('pem'), certificate, key };
}

/** Reads the CA from its Secret, creating it first if there is none. */
export async function loadOrCreateApiCa(client: KubeClient, namespace: string): Promise<ApiCa> {
  const ref = { apiVersion: 'v1', kind: 'Secret', namespace, name: API_CA_NAME };
  const where = `${namespace}/${API_CA_NAME}`;
  const existing = await getObject<V1Secret>(client, ref);
  if (existing) return parseApiCa(existing.data, where);
  const fresh = await createApiCa(namespace);
  try {
    await createObject<V1Secret>(
      client,
      {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: API_CA_NAME, namespace, labels: LABELS },
        type: 'Opaque',
        data: {
          [CA_CERT_KEY]: Buffer.from(fresh.certPem).toString('base64'),
          [CA_KEY_KEY]: Buffer.from(fresh.keyPem).toString('base64'),
        },
      },
      { fieldManager: FIELD_MANAGER },
    );
  } catch (err) {
    // Another replica was first: use its CA.
    if (!isAlreadyExists(err)) throw err;
  }
  const stored = await getObject<V1Secret>(client, ref);
  if (!stored) throw new Error(`Secret ${where} vanished right after it was created`);
  return parseApiCa(stored.data, where);
}

/**
 * Publishes the CA bundle in the ConfigMap `vaultsync-api-ca` (key `ca.crt`). Writes nothing
 * when it already holds this bundle.
 */
export async function publishCaBundle(
  client: KubeClient,
  namespace: string,
  bundlePem: string,
): Promise<'created' | 'updated' | 'unchanged'> {
  const ref = { apiVersion: 'v1', kind: 'ConfigMap', namespace, name: API_CA_NAME };
  for (let attempt = 0; ; attempt++) {
    const current = await getObject<V1ConfigMap>(client, ref);
    if (current?.data?.[CA_CERT_KEY] === bundlePem) return 'unchanged';
    if (current) {
      await mergePatch(client, ref, { data: { [CA_CERT_KEY]: bundlePem } }, { fieldManager: FIELD_MANAGER });
      return 'updated';
    }
    try {
      await createObject<V1ConfigMap>(
        client,
        {
          apiVersion: 'v1',
          kind: 'ConfigMap',
          metadata: { name: API_CA_NAME, namespace, labels: LABELS },
          data: { [CA_CERT_KEY]: bundlePem },
        },
        { fieldManager: FIELD_MANAGER },
      );
      return 'created';
    } catch (err) {
      // Another replica created it in between: compare again (once).
      if (!isAlreadyExists(err) || attempt > 0) throw err;
    }
  }
}
