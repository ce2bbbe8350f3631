// The sidecar's AWS web identity (issue 18, deliver 2: cloud workload identity), the EKS IRSA
// flow end to end against moto: a TokenRequest token of a tenant ServiceAccount for audience
// sts.amazonaws.com in a file, `vaultsync sidecar` started with a role ARN and no AWS keys at
// all; the SDK exchanges the token at STS (AssumeRoleWithWebIdentity) and signs Secrets Manager
// calls with the role's temporary credentials, which moto checks (IAM enforced: the key must be
// one STS handed out, and the role's policy decides). What moto does NOT do: it never verifies
// the web identity token (signature, issuer, audience, expiry) nor the role's trust policy —
// the trust decision shown here is moto's, and the SDK flow is the real one. The refusals of a
// garbage or expired token are the sidecar's own start-up checks, before anything is sent.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { createKubeClient } from '../src/kube/index.ts';
import { startPrivateBed, stopPrivateBed } from './faults/private-bed.ts';
import { serviceAccountToken } from './support/api-callers.ts';
import { ensureNamespace } from './support/operator.ts';
import type { Testbed } from './support/testbed.ts';
import { repoRoot } from './support/testbed/paths.ts';
import { eventually } from './support/wait.ts';

const tenant = 'sidecar-aws';
const account = '123456789012';
const readerRole = `arn:aws:iam::${account}:role/${tenant}-reader`;
const listerRole = `arn:aws:iam::${account}:role/${tenant}-lister`;
const canary = `canary-${Math.random().toString(36).slice(2)}-aws`;

interface Reply {
  status: number;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

interface Started {
  process: ChildProcess;
  logs: string[];
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** `vaultsync sidecar` as its own process, with no AWS keys, profile or web identity env. */
function startSidecar(config: string, home: string): Started {
  const child = spawn(process.execPath, ['src/main.ts', 'sidecar', '--config', config], {
    cwd: repoRoot,
    env: { PATH: process.env.PATH ?? '', HOME: home },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: string[] = [];
  child.stdout!.on('data', (c: Buffer) => logs.push(c.toString('utf8')));
  child.stderr!.on('data', (c: Buffer) => logs.push(c.toString('utf8')));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return { process: child, logs, exited };
}

function call(socket: string, path: string): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: socket, path, method: 'GET' }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : undefined });
      });
    });
    req.on('error', reject);
    req.end();
  });
}

describe('sidecar: AWS web identity (IRSA) against moto', function () {
  this.timeout(120_000);
  let bed: Testbed;
  let moto: string;
  let work: string;
  let token: string;
  let sidecar: Started;
  const socket = () => join(work, 'vaultsync.sock');

  /** moto's unsigned-request allowance: the next `n` requests of any kind are not checked. */
  const allowUnsigned = async (n: string) => {
    const res = await fetch(`${moto}/moto-api/reset-auth`, { method: 'POST', body: n });
    assert.ok(res.ok);
  };
  /** An IAM Query API call to moto (made while it checks nothing). */
  async function iam(params: Record<string, string>): Promise<void> {
    const res = await fetch(moto, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `AWS4-HMAC-SHA256 Credential=AKIDSETUP/20250101/us-east-1/iam/aws4_request, SignedHeaders=host, Signature=0`,
      },
      body: new URLSearchParams({ ...params, Version: '2010-05-08' }).toString(),
    });
    assert.ok(res.ok, `IAM ${params.Action}: HTTP ${res.status} ${(await res.text()).slice(0, 200)}`);
  }
  /** The sessions moto's STS handed out (its model state), as role ARN and session name. */
  async function assumedRoles(): Promise<{ role: string; session: string }[]> {
    const data = (await (await fetch(`${moto}/moto-api/data.json`)).json()) as {
      sts?: { AssumedRole?: { role_arn: string; session_name: string }[] };
    };
    return (data.sts?.AssumedRole ?? []).map((r) => ({ role: r.role_arn, session: r.session_name }));
  }
  const role = (name: string, actions: string[]): Record<string, string>[] => [
    {
      Action: 'CreateRole',
      RoleName: name,
      // What an IRSA role trusts; moto stores it and does not evaluate it.
      AssumeRolePolicyDocument: JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Principal: { Federated: `arn:aws:iam::${account}:oidc-provider/kubernetes.default.svc` },
            Action: 'sts:AssumeRoleWithWebIdentity',
            Condition: {
              StringEquals: { 'kubernetes.default.svc:sub': `system:serviceaccount:${tenant}:app` },
            },
          },
        ],
      }),
    },
    {
      Action: 'PutRolePolicy',
      RoleName: name,
      PolicyName: 'secrets',
      PolicyDocument: JSON.stringify({
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Action: actions, Resource: '*' }],
      }),
    },
  ];
  const config = (tokenFile: string, name = 'config.yaml') => {
    const path = join(work, name);
    const backend = (backendName: string, roleArn: string, explicitFile: boolean) => `
  - name: ${backendName}
    type: aws-secrets-manager
    region: us-east-1
    endpoint: ${moto}
    tls: {insecure: true}
    allowedPaths: ["{namespace}/*"]
    auth:
      webIdentity:
        roleArn: ${roleArn}
        stsEndpoint: ${moto}${explicitFile ? `\n        tokenFile: ${tokenFile}` : ''}`;
    writeFileSync(
      path,
      `sidecar:
  listen: {socket: ${socket()}}
  serviceAccountToken: {path: ${join(work, 'token')}, audience: sts.amazonaws.com}
  cache: {maxAge: 0s}
  logLevel: debug
backends:${backend('aws', readerRole, false)}${backend('aws-lister', listerRole, true)}
`,
    );
    return path;
  };

  before(async function () {
    this.timeout(180_000);
    bed = await startPrivateBed('sidecar-aws', { workloads: false, aws: true });
    moto = bed.env.AWS_ENDPOINT_URL_SECRETS_MANAGER ?? '';
    const kc = bed.kubeConfig();
    const client = createKubeClient(kc);
    await ensureNamespace(kc, tenant);
    const raw = new SecretsManagerClient({
      region: 'us-east-1',
      endpoint: moto,
      credentials: { accessKeyId: 'setup', secretAccessKey: 'setup' },
    });
    await raw.send(
      new CreateSecretCommand({ Name: `${tenant}/db`, SecretString: JSON.stringify({ password: canary }) }),
    );
    raw.destroy();
    for (const params of [
      ...role(`${tenant}-reader`, ['secretsmanager:GetSecretValue']),
      ...role(`${tenant}-lister`, ['secretsmanager:ListSecrets']),
    ])
      await iam(params);

    // What EKS projects for IRSA: the pod's ServiceAccount token for audience sts.amazonaws.com.
    token = await serviceAccountToken(client, tenant, 'app', ['sts.amazonaws.com']);
    work = mkdtempSync(join(tmpdir(), 'vaultsync-sidecar-aws-'));
    writeFileSync(join(work, 'token'), `${token}\n`, { mode: 0o600 });
    // From here moto checks every signature and policy: the setup keys above are unknown to it.
    await allowUnsigned('0');
    sidecar = startSidecar(config(join(work, 'token')), work);
    await eventually('the sidecar answers on its socket', async () => {
      if (sidecar.process.exitCode !== null) return `exited: ${sidecar.logs.join('')}`;
      return (await call(socket(), '/healthz')).status === 200 ? 'up' : undefined;
    }).then((state) => assert.equal(state, 'up', state));
  });

  after(async function () {
    this.timeout(60_000);
    if (sidecar && sidecar.process.exitCode === null) sidecar.process.kill('SIGKILL');
    await stopPrivateBed(bed);
  });

  it("serves the tenant's secret with the role's credentials from STS, its session named after the pod", async () => {
    assert.deepEqual(await assumedRoles(), [], 'nothing assumed before the first read');
    // AssumeRoleWithWebIdentity is unsigned (the token is the proof): moto lets exactly that one
    // request through unchecked; the GetSecretValue after it must carry a key STS handed out.
    await allowUnsigned('1');
    const reply = await call(socket(), `/v1/namespaces/${tenant}/backends/aws/secrets/${tenant}/db`);
    assert.equal(reply.status, 200, JSON.stringify(reply.body));
    assert.deepEqual(reply.body.data, { password: canary });
    assert.deepEqual(await assumedRoles(), [
      { role: readerRole, session: `vaultsync-sidecar.${tenant}.app` },
    ]);
  });

  it("is refused by moto where the assumed role's policy does not allow the read", async () => {
    await allowUnsigned('1');
    const reply = await call(socket(), `/v1/namespaces/${tenant}/backends/aws-lister/secrets/${tenant}/db`);
    assert.equal(reply.status, 403, JSON.stringify(reply.body));
    assert.equal(reply.body.code, 'Forbidden');
    assert.deepEqual(
      (await assumedRoles()).map((r) => r.role),
      [readerRole, listerRole],
      'the second backend assumed its own role, from the token file it names',
    );
  });

  it('keeps the credentials: later reads make no new STS call and pass the signature check', async () => {
    // cache.maxAge 0: this read goes to moto, which now checks every request.
    const reply = await call(socket(), `/v1/namespaces/${tenant}/backends/aws/secrets/${tenant}/db`);
    assert.equal(reply.status, 200, JSON.stringify(reply.body));
    assert.equal((await assumedRoles()).length, 2);
  });

  it('exits 0 on SIGTERM; neither the value nor the token in its debug log', async () => {
    sidecar.process.kill('SIGTERM');
    assert.deepEqual(await sidecar.exited, { code: 0, signal: null });
    const log = sidecar.logs.join('');
    assert.match(log, /Sidecar serving/);
    assert.ok(!log.includes(canary) && !log.includes(token));
  });

  describe('refuses at start-up a web identity token that will not do (nothing sent to STS)', () => {
    const cases: [string, () => string, RegExp][] = [
      ['garbage', () => 'garbage-canary-token', /the ServiceAccount token file does not hold a JWT/],
      [
        // The real token with its exp moved to the past: its signature no longer holds, which
        // STS would refuse; the sidecar reads the claims only and refuses the expiry first.
        'expired',
        () => {
          const [h, p, s] = token.split('.') as [string, string, string];
          const claims = JSON.parse(Buffer.from(p, 'base64url').toString('utf8')) as { exp: number };
          claims.exp = Math.floor(Date.now() / 1000) - 60;
          return [h, Buffer.from(JSON.stringify(claims)).toString('base64url'), s].join('.');
        },
        /the web identity token expired at /,
      ],
    ];
    for (const [what, content, message] of cases) {
      it(`${what}: exit 2 with the backend and file named, the token not printed`, async () => {
        const before = (await assumedRoles()).length;
        const bad = join(work, `${what}-token`);
        const text = content();
        writeFileSync(bad, text, { mode: 0o600 });
        const started = startSidecar(config(bad, `${what}.yaml`), work);
        const result = await started.exited;
        const out = started.logs.join('');
        assert.deepEqual(result, { code: 2, signal: null }, out);
        assert.match(out, new RegExp(`backend "aws-lister": the web identity token ${bad}: `));
        assert.match(out, message);
        assert.ok(!out.includes(text) && !out.includes(token));
        assert.equal((await assumedRoles()).length, before);
      });
    }
  });
});
