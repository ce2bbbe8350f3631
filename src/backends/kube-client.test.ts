// The client-node calls of the kubernetes backend and of TokenRequests against a real local HTTP
// server: they name the replica in their User-Agent, as the operator's own client does.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import { kubeSecretsApi, kubeTokenSource } from './kube-client.ts';

describe('kube-client User-Agent', () => {
  it('TokenRequests and Secret calls carry the User-Agent given', async () => {
    const agents: string[] = [];
    const server = createServer((req, res) => {
      agents.push(`${req.method} ${req.headers['user-agent']}`);
      req.resume();
      res.setHeader('Content-Type', 'application/json');
      res.end(
        req.url?.endsWith('/token')
          ? '{"kind":"TokenRequest","status":{"token":"t","expirationTimestamp":"2030-01-01T00:00:00Z"}}'
          : '{"kind":"Secret","apiVersion":"v1","metadata":{"name":"s","namespace":"n","resourceVersion":"1"}}',
      );
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const kc = new KubeConfig();
      kc.loadFromOptions({
        clusters: [
          {
            name: 'c',
            server: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
            skipTLSVerify: true,
          },
        ],
        users: [{ name: 'u', token: 't' }],
        contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
        currentContext: 'x',
      });
      const ua = 'vaultsync/1.2.3 (replica-a)';
      await kubeTokenSource(kc, { userAgent: ua }).getServiceAccountToken('n', 'sa', ['vault'], 600);
      await kubeSecretsApi(kc, { userAgent: ua }).get('n', 's');
      await kubeSecretsApi(kc, { userAgent: ua }).get('n', 's', AbortSignal.timeout(5000));
      assert.deepEqual(agents, [`POST ${ua}`, `GET ${ua}`, `GET ${ua}`]);
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
