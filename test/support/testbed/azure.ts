// Azure Key Vault for the bed: the HTTPS fake in this directory (Lowkey Vault cannot be had
// here; see azure-key-vault-fake.ts), with a certificate for localhost / 127.0.0.1 from a CA
// made for it, whose file the env names so clients trust it explicitly.
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from './ports.ts';
import { spawnManaged, waitUntil, type ManagedProcess } from './processes.ts';

export interface AzureFake {
  /** `https://127.0.0.1:<port>` */
  vaultUrl: string;
  /** PEM file of the CA that signed the fake's certificate. */
  caFile: string;
  /** HTTP admin address of the fake (throttle switch, call log). */
  admin: string;
  process: ManagedProcess;
}

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

function makeCertificates(dir: string): { caFile: string; certFile: string; keyFile: string } {
  mkdirSync(dir, { recursive: true });
  const ec = ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256'];
  openssl(['genpkey', ...ec, '-out', 'ca.key'], dir);
  openssl(
    [
      'req',
      '-x509',
      '-new',
      '-key',
      'ca.key',
      '-subj',
      '/CN=vaultsync-testbed-azure-ca',
      '-days',
      '30',
      '-out',
      'ca.crt',
    ],
    dir,
  );
  openssl(['genpkey', ...ec, '-out', 'server.key'], dir);
  openssl(['req', '-new', '-key', 'server.key', '-subj', '/CN=localhost', '-out', 'server.csr'], dir);
  writeFileSync(
    join(dir, 'server.ext'),
    'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\nkeyUsage=digitalSignature\n',
  );
  openssl(
    [
      'x509',
      '-req',
      '-in',
      'server.csr',
      '-CA',
      'ca.crt',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-days',
      '30',
    ].concat(['-sha256', '-extfile', 'server.ext', '-out', 'server.crt']),
    dir,
  );
  return { caFile: join(dir, 'ca.crt'), certFile: join(dir, 'server.crt'), keyFile: join(dir, 'server.key') };
}

export async function startAzureFake(dir: string, group: ManagedProcess[]): Promise<AzureFake> {
  const pki = makeCertificates(join(dir, 'azure-pki'));
  const [port, adminPort] = [await freePort(), await freePort()];
  const script = join(import.meta.dirname, 'azure-key-vault-fake.ts');
  const process = spawnManaged(
    'azure-key-vault-fake',
    globalThis.process.execPath,
    [
      script,
      '--port',
      String(port),
      '--admin-port',
      String(adminPort),
      '--cert',
      pki.certFile,
      '--key',
      pki.keyFile,
    ],
    { logDir: join(dir, 'logs'), group },
  );
  const admin = `http://127.0.0.1:${adminPort}`;
  await waitUntil('azure-key-vault-fake', async () => (await fetch(`${admin}/healthz`)).ok, {
    timeoutMs: 30_000,
    process,
  });
  return { vaultUrl: `https://127.0.0.1:${port}`, caFile: pki.caFile, admin, process };
}
