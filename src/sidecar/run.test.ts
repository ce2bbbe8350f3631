import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '../observability/logger.ts';
import { startSidecar } from './run.ts';

const jwt = (aud: string) =>
  [
    'e30',
    Buffer.from(
      JSON.stringify({
        aud: [aud],
        'kubernetes.io': { namespace: 'team-a', serviceaccount: { name: 'app' } },
      }),
    ).toString('base64url'),
    'c2ln',
  ].join('.');

function get(socketPath: string, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    request({ socketPath, path }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    })
      .on('error', reject)
      .end();
  });
}

describe('startSidecar (a memory backend, a real socket)', () => {
  let dir: string;
  const logger = () => createLogger({ level: 'error' });
  const setUp = (aud: string, socketMode = '0660') => {
    dir = mkdtempSync(join(tmpdir(), 'vaultsync-sidecar-run-'));
    writeFileSync(join(dir, 'token'), jwt(aud));
    writeFileSync(
      join(dir, 'config.yaml'),
      `sidecar:
  listen: {socket: ${join(dir, 's.sock')}, socketMode: "${socketMode}"}
  serviceAccountToken: {path: ${join(dir, 'token')}}
backends:
  - {name: mem, type: memory, allowedPaths: ["{namespace}/*"], data: {team-a/db: {user: app}}}
`,
    );
    return join(dir, 'config.yaml');
  };

  it('serves on a socket of the mode asked for, as the identity of its token, and removes it when stopped', async () => {
    const sidecar = await startSidecar({ configPath: setUp('vault'), logger });
    const socket = join(dir, 's.sock');
    assert.equal(sidecar.address, socket);
    assert.deepEqual(sidecar.identity, { namespace: 'team-a', serviceAccount: 'app', audiences: ['vault'] });
    assert.equal(statSync(socket).mode & 0o777, 0o660);
    const read = await get(socket, '/v1/namespaces/team-a/backends/mem/secrets/team-a/db');
    assert.equal(read.status, 200);
    assert.deepEqual(JSON.parse(read.body).data, { user: 'app' });
    await sidecar.stop();
    assert.equal(existsSync(socket), false);
  });

  it('refuses a token projected for another audience, and a file in the socket’s place', async () => {
    await assert.rejects(startSidecar({ configPath: setUp('api'), logger }), /audience api, not "vault"/);
    const config = setUp('vault');
    writeFileSync(join(dir, 's.sock'), 'not a socket');
    await assert.rejects(startSidecar({ configPath: config, logger }), /exists and is not a socket/);
  });

  it('replaces the socket a killed predecessor left behind', async () => {
    const config = setUp('vault');
    const socket = join(dir, 's.sock');
    const predecessor = spawn(process.execPath, [
      '-e',
      `require('net').createServer().listen(${JSON.stringify(socket)}, () => process.stdout.write('up'))`,
    ]);
    await new Promise((resolve) => predecessor.stdout.once('data', resolve));
    predecessor.kill('SIGKILL');
    await new Promise((resolve) => predecessor.once('exit', resolve));
    assert.ok(statSync(socket).isSocket(), 'left behind');
    const sidecar = await startSidecar({ configPath: config, logger });
    assert.equal((await get(socket, '/healthz')).status, 200);
    await sidecar.stop();
  });
});
