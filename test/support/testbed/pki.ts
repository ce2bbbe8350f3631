// Certificates for the local control plane, made with the openssl CLI: one CA that signs
// the apiserver's serving certificate and the client certificates of each component.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface ClientCert {
  certFile: string;
  keyFile: string;
}

export interface ControlPlanePki {
  caFile: string;
  caKeyFile: string;
  servingCertFile: string;
  servingKeyFile: string;
  serviceAccountKeyFile: string;
  serviceAccountPubFile: string;
  client(name: string, commonName: string, organization?: string): ClientCert;
}

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

function ecKey(file: string, dir: string): void {
  openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', file], dir);
}

function signedCert(dir: string, name: string, subject: string, extensions: string): ClientCert {
  const keyFile = join(dir, `${name}.key`);
  const certFile = join(dir, `${name}.crt`);
  const extFile = join(dir, `${name}.ext`);
  ecKey(keyFile, dir);
  writeFileSync(extFile, extensions);
  openssl(['req', '-new', '-key', keyFile, '-subj', subject, '-out', join(dir, `${name}.csr`)], dir);
  openssl(
    ['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial'].concat([
      '-days',
      '30',
      '-sha256',
      '-extfile',
      extFile,
      '-out',
      certFile,
    ]),
    dir,
  );
  return { certFile, keyFile };
}

export function createControlPlanePki(dir: string): ControlPlanePki {
  ecKey('ca.key', dir);
  openssl(
    [
      'req',
      '-x509',
      '-new',
      '-key',
      'ca.key',
      '-subj',
      '/CN=vaultsync-testbed-ca',
      '-days',
      '30',
      '-out',
      'ca.crt',
    ],
    dir,
  );
  const serving = signedCert(
    dir,
    'apiserver',
    '/CN=kube-apiserver',
    'subjectAltName=IP:127.0.0.1,IP:10.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default.svc\n' +
      'extendedKeyUsage=serverAuth\nkeyUsage=digitalSignature,keyEncipherment\n',
  );
  openssl(['genrsa', '-out', 'sa.key', '2048'], dir);
  openssl(['rsa', '-in', 'sa.key', '-pubout', '-out', 'sa.pub'], dir);
  return {
    caFile: join(dir, 'ca.crt'),
    caKeyFile: join(dir, 'ca.key'),
    servingCertFile: serving.certFile,
    servingKeyFile: serving.keyFile,
    serviceAccountKeyFile: join(dir, 'sa.key'),
    serviceAccountPubFile: join(dir, 'sa.pub'),
    client(name, commonName, organization) {
      const subject = `/CN=${commonName}` + (organization ? `/O=${organization}` : '');
      return signedCert(dir, name, subject, 'extendedKeyUsage=clientAuth\nkeyUsage=digitalSignature\n');
    },
  };
}
