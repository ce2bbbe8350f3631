import { readFileSync, writeFileSync } from 'node:fs';
import { stringify } from 'yaml';
import type { ClientCert } from './pki.ts';

const b64 = (file: string) => readFileSync(file).toString('base64');

/** Writes a kubeconfig for one user authenticated by a client certificate. */
export function writeKubeconfig(file: string, server: string, caFile: string, user: ClientCert): void {
  const config = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'testbed', cluster: { server, 'certificate-authority-data': b64(caFile) } }],
    users: [
      {
        name: 'testbed-user',
        user: { 'client-certificate-data': b64(user.certFile), 'client-key-data': b64(user.keyFile) },
      },
    ],
    contexts: [
      { name: 'testbed', context: { cluster: 'testbed', user: 'testbed-user', namespace: 'default' } },
    ],
    'current-context': 'testbed',
  };
  writeFileSync(file, stringify(config), { mode: 0o600 });
}
