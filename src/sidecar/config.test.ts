import assert from 'node:assert/strict';
import { ConfigError } from '../config/problems.ts';
import {
  DEFAULT_SOCKET,
  asSidecarBackend,
  listenTarget,
  parseSidecarFile,
  sidecarBackendProblems,
  sidecarConfig,
} from './config.ts';

const identity = { namespace: 'team-a', serviceAccount: 'app', audiences: ['vault'] };

function problems(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err.problems.map((p) => `${p.path}: ${p.message}`);
    throw err;
  }
  return [];
}

async function asyncProblems(fn: () => Promise<unknown>): Promise<string[]> {
  try {
    await fn();
  } catch (err) {
    if (err instanceof ConfigError) return err.problems.map((p) => `${p.path}: ${p.message}`);
    throw err;
  }
  return [];
}

const vault = `
backends:
  - name: vault
    type: vault
    address: https://vault:8200
    allowedPaths: ["{namespace}/app/*"]
    auth: {kubernetes: {role: team-a}}
`;

describe('sidecar config', () => {
  it('fills in the defaults: a 0600 socket, the projected token for audience vault, a 1m cache', () => {
    const { settings } = parseSidecarFile(vault, 'f');
    assert.deepEqual(listenTarget(settings.listen), { kind: 'socket', path: DEFAULT_SOCKET, mode: 0o600 });
    assert.equal(settings.serviceAccountToken.path, '/var/run/secrets/vaultsync/token');
    assert.equal(settings.serviceAccountToken.audience, 'vault');
    assert.equal(settings.cache.maxAge, 60_000);
    assert.equal(settings.logLevel, 'info');
  });

  it('listens on a loopback address or a socket with the mode asked for', () => {
    const tcp = parseSidecarFile(`sidecar: {listen: {address: "127.0.0.1:8099"}}\n${vault}`, 'f');
    assert.deepEqual(listenTarget(tcp.settings.listen), { kind: 'tcp', host: '127.0.0.1', port: 8099 });
    const v6 = parseSidecarFile(`sidecar: {listen: {address: "[::1]:0"}}\n${vault}`, 'f');
    assert.deepEqual(listenTarget(v6.settings.listen), { kind: 'tcp', host: '::1', port: 0 });
    const group = parseSidecarFile(
      `sidecar: {listen: {socket: /s/x.sock, socketMode: "0660"}}\n${vault}`,
      'f',
    );
    assert.deepEqual(listenTarget(group.settings.listen), { kind: 'socket', path: '/s/x.sock', mode: 0o660 });
  });

  it('refuses a non-loopback address, both listeners, a wider socket mode and a long cache', () => {
    assert.deepEqual(
      problems(() =>
        parseSidecarFile(
          'sidecar: {listen: {address: "0.0.0.0:80", socketMode: "0666"}, cache: {maxAge: 2h}, extra: 1}',
          'f',
        ),
      ),
      [
        'sidecar.extra: unknown field; allowed here: listen, serviceAccountToken, cache, requestTimeout, shutdownTimeout, batchGet, logLevel',
        'sidecar.listen.socketMode: must be one of: 0600, 0660',
        'sidecar.listen.address: must be a loopback address such as 127.0.0.1:8099 or [::1]:8099',
      ],
    );
    assert.deepEqual(
      problems(() =>
        parseSidecarFile('sidecar: {listen: {address: "127.0.0.1:1", socket: /a}, cache: {maxAge: 2h}}', 'f'),
      ),
      ['sidecar.listen: set socket or address, not both', 'sidecar.cache.maxAge: must be at most 1h'],
    );
    assert.deepEqual(
      problems(() => parseSidecarFile('operator: {}', 'f')),
      ['operator: unknown field; a sidecar config has sidecar and backends'],
    );
  });

  it('refuses what a sidecar must not do with a backend', () => {
    const refused = sidecarBackendProblems(
      {
        name: 'v',
        type: 'vault',
        allowedNamespaces: ['*'],
        allowedWritePaths: ['x'],
        auth: {
          kubernetes: { role: 'r', serviceAccount: 'resource' },
          appRole: { roleId: 'x', secretIdRef: {} },
        },
      },
      2,
    );
    assert.deepEqual(
      refused.map((p) => p.path),
      [
        'backends[2].allowedPaths',
        'backends[2].allowedWritePaths',
        'backends[2].allowedNamespaces',
        'backends[2].auth.kubernetes.serviceAccount',
        'backends[2].auth.appRole',
      ],
    );
    assert.deepEqual(
      sidecarBackendProblems(
        { type: 'aws-secrets-manager', allowedPaths: ['a'], auth: { static: { x: 1 } } },
        0,
      ).map((p) => p.path),
      ['backends[0].auth.static'],
    );
    assert.deepEqual(
      sidecarBackendProblems({ type: 'local-ca', allowedPaths: ['a'] }, 0).map((p) => p.path),
      ['backends[0].type'],
    );
    assert.deepEqual(sidecarBackendProblems({ type: 'memory', allowedPaths: ['a'] }, 0), []);
  });

  it("serves the pod's namespace, logs in as the pod's ServiceAccount, keeps values for maxAge", async () => {
    const file = parseSidecarFile(
      `sidecar: {cache: {maxAge: 5m}, serviceAccountToken: {audience: openbao}}\n${vault}`,
      'f',
    );
    const config = await sidecarConfig(file, identity);
    const [b] = config.backends;
    assert.equal(b?.type, 'vault');
    if (b?.type !== 'vault') return;
    assert.deepEqual(b.allowedNamespaces, ['team-a']);
    assert.equal(b.coalesce.ttl, 300_000);
    assert.equal(b.auth.kubernetes?.serviceAccount, 'operator');
    assert.deepEqual(b.auth.kubernetes?.audiences, ['openbao']);
    assert.equal(config.operator.namespace, 'team-a');
    assert.equal(config.operator.serviceAccountName, 'app');
    // A backend's own coalesce.ttl wins over the sidecar's cache age.
    assert.equal(asSidecarBackend({ ...b, coalesce: { ttl: 5000 } }, file.settings).coalesce.ttl, 5000);
  });

  it("reports the operator loader's problems with the file's paths", async () => {
    const file = parseSidecarFile('backends: [{name: v, type: vault, allowedPaths: [a]}]', 'f');
    assert.deepEqual(await asyncProblems(() => sidecarConfig(file, identity)), [
      'backends[0].address: is required',
      'backends[0].auth: is required',
    ]);
    const none = parseSidecarFile('sidecar: {}', 'f');
    assert.deepEqual(await asyncProblems(() => sidecarConfig(none, identity)), [
      'backends: must list at least one backend',
    ]);
  });
});
