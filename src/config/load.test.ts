import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import { loadConfig, loadConfigFromEnv } from './load.ts';
import { ConfigError } from './problems.ts';
import type { LoadOptions } from './source.ts';
import { configWarnings } from './warnings.ts';
import type { Config, VaultBackendConfig } from './schema.ts';

const SUPPORTED =
  'vault, kubernetes, memory, aws-secrets-manager, gcp-secret-manager, azure-key-vault, vault-pki, local-ca';

const CA = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';

const files: Record<string, string> = {
  '/etc/vaultsync/ca.pem': CA,
  '/etc/vaultsync/not-a-cert': 'hello',
  '/etc/vaultsync/config.yaml': 'backends: [{name: m, type: memory, allowedNamespaces: ["*"]}]',
};
const opts: LoadOptions = {
  env: {},
  readFile: async (path) => {
    const text = files[path];
    if (text === undefined) throw Object.assign(new Error(`ENOENT: ${path}`), { code: 'ENOENT' });
    return Buffer.from(text);
  },
};

async function load(text: string, options: LoadOptions = opts): Promise<Config> {
  return loadConfig({ text, name: 'test.yaml' }, options);
}

/** The problems of a bad config as `path: message` lines. */
async function problems(text: string, options: LoadOptions = opts): Promise<string[]> {
  try {
    await load(text, options);
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected ConfigError, got ${String(err)}`);
    return err.problems.map((p) => `${p.path}: ${p.message}`);
  }
  assert.fail('expected the config to be rejected');
}

/** A valid vault backend in YAML flow style, with fields replaced or added. */
function vault(fields: string): string {
  return `backends:\n  - {name: vault, type: vault, allowedNamespaces: ["*"], ${fields}}\n`;
}

describe('loadConfig', () => {
  describe('a valid config', () => {
    it('fills every default and decodes durations to milliseconds', async () => {
      const config = await load(
        vault('address: "https://vault:8200", auth: {kubernetes: {role: vaultsync}}'),
      );
      assert.equal(config.operator.namespace, 'vaultsync');
      assert.equal(config.operator.workers, 4);
      assert.equal(config.operator.defaultRefreshInterval, 3_600_000);
      assert.equal(config.operator.resyncPeriod, 600_000);
      assert.deepEqual(config.operator.watchNamespaces, [], 'all namespaces');
      assert.deepEqual(config.operator.leaderElection, {
        enabled: true,
        leaseName: 'vaultsync-leader',
        leaseDuration: 15_000,
        renewDeadline: 10_000,
        retryPeriod: 2_000,
      });
      const b = config.backends[0] as VaultBackendConfig;
      assert.equal(b.type, 'vault');
      assert.deepEqual(b.kv, { mount: 'secret' });
      assert.deepEqual(b.tls, { insecure: false });
      assert.deepEqual(b.allowedPaths, ['**']);
      assert.deepEqual(b.allowedWritePaths, [], 'no writes unless granted');
      assert.deepEqual(b.rateLimit, { qps: 50, burst: 100, maxWait: 5_000 });
      assert.deepEqual(b.circuitBreaker, { failureThreshold: 5, halfOpenAfter: 30_000 });
      assert.deepEqual(b.auth.kubernetes, {
        role: 'vaultsync',
        mountPath: 'kubernetes',
        serviceAccount: 'resource',
        serviceAccountName: 'vaultsync',
        audiences: ['vault'],
        tokenExpiration: 600_000,
      });
    });

    it('reads the design example', async () => {
      const config = await load(`
operator:
  namespace: vaultsync-system
  leaderElection: {leaseDuration: 30s, renewDeadline: 20s, retryPeriod: 5s}
  defaultRefreshInterval: 1h30m
  resyncPeriod: "0"
backends:
  - name: vault
    type: vault
    address: https://vault.vault.svc:8200
    tls: {caFile: /etc/vaultsync/ca.pem}
    auth: {kubernetes: {role: vaultsync, mountPath: kubernetes, audiences: [vault]}}
    kv: {mount: secret}
    allowedNamespaces: ["shop", "team-*"]
    allowedPaths: ["{namespace}/*"]
    rateLimit: {qps: 50, burst: 100}
  - {name: dev, type: kubernetes, namespace: vaultsync-dev-secrets, allowedNamespaces: ["*"]}
  - name: mem
    type: memory
    allowedNamespaces: ["*"]
    data:
      shop/db: {password: hunter2}
`);
      assert.equal(config.operator.defaultRefreshInterval, 5_400_000);
      assert.equal(config.operator.resyncPeriod, 0, 'replays off');
      const [v, k, m] = config.backends;
      assert.equal(v?.type === 'vault' && v.tls.caPem, CA);
      assert.equal(k?.type === 'kubernetes' && k.namespace, 'vaultsync-dev-secrets');
      assert.ok(m?.type === 'memory');
      assert.deepEqual(m.data.reveal(), { 'shop/db': { password: 'hunter2' } });
    });

    it('reads the three cloud backends with their defaults', async () => {
      const config = await load(`
backends:
  - name: aws
    type: aws-secrets-manager
    region: eu-west-1
    allowedNamespaces: ["shop"]
  - name: moto
    type: aws-secrets-manager
    region: us-east-1
    endpoint: http://127.0.0.1:5000
    tls: {insecure: true}
    auth: {static: {accessKeyIdRef: {name: aws, key: id}, secretAccessKeyRef: {name: aws, key: secret}}}
    allowedNamespaces: ["shop"]
  - name: gcp
    type: gcp-secret-manager
    project: my-project-123
    auth: {serviceAccountKeyRef: {name: gcp, key: key.json, namespace: vaultsync}}
    allowedNamespaces: ["shop"]
  - name: azure
    type: azure-key-vault
    vaultUrl: https://shop.vault.azure.net
    tls: {caFile: /etc/vaultsync/ca.pem}
    auth: {workloadIdentity: {clientId: 00000000-0000-0000-0000-000000000001}}
    allowedNamespaces: ["shop"]
`);
      const [aws, moto, gcp, azure] = config.backends;
      assert.ok(aws?.type === 'aws-secrets-manager' && moto?.type === 'aws-secrets-manager');
      assert.deepEqual(aws.auth, {});
      assert.equal(aws.endpoint, undefined);
      assert.deepEqual(aws.tls, { insecure: false });
      assert.equal(moto.auth.static?.secretAccessKeyRef.key, 'secret');
      assert.ok(gcp?.type === 'gcp-secret-manager');
      assert.equal(gcp.auth.serviceAccountKeyRef?.namespace, 'vaultsync');
      assert.deepEqual(gcp.tls, { insecure: false });
      assert.ok(azure?.type === 'azure-key-vault');
      assert.equal(azure.tls.caPem, CA);
      assert.equal(configWarnings(config).length, 1); // moto's plain-text endpoint
    });

    it('warns about plain-text endpoints and the emulator token', async () => {
      const config = await load(`
backends:
  - {name: moto, type: aws-secrets-manager, region: us-east-1, endpoint: "http://127.0.0.1:5000", tls: {insecure: true}, allowedNamespaces: ["*"]}
  - {name: gcp, type: gcp-secret-manager, project: p-12345, endpoint: "127.0.0.1:9090", tls: {insecure: true}, allowedNamespaces: ["*"]}
  - {name: az, type: azure-key-vault, vaultUrl: "https://localhost:8443", auth: {emulator: {}}, allowedNamespaces: ["*"]}
`);
      assert.deepEqual(configWarnings(config), [
        'backends[0].tls.insecure: plain-text connection to http://127.0.0.1:5000; use only with an emulator',
        'backends[1].tls.insecure: plain-text connection to 127.0.0.1:9090; use only with an emulator',
        'backends[2].auth.emulator: placeholder token for an emulator; real Key Vault refuses it',
      ]);
    });

    it('is deeply frozen', async () => {
      const config = await load(
        vault('address: "https://v", auth: {appRole: {roleId: r, secretIdFile: /s}}'),
      );
      assert.ok(Object.isFrozen(config));
      assert.ok(Object.isFrozen(config.operator.leaderElection));
      assert.ok(Object.isFrozen(config.backends));
      assert.ok(Object.isFrozen(config.backends[0]));
      assert.ok(Object.isFrozen(config.backends[0]?.allowedNamespaces));
      assert.throws(() => {
        (config.backends[0] as { name: string }).name = 'x';
      }, TypeError);
    });

    it('keeps inline secrets out of JSON and inspect', async () => {
      const config = await load(
        vault('address: "http://v", tls: {insecure: true}, auth: {token: {value: hvs.CANARY123}}') +
          '  - {name: m, type: memory, allowedNamespaces: ["*"], data: {p: {k: MEMCANARY}}}\n',
      );
      const b = config.backends[0] as VaultBackendConfig;
      assert.equal(b.auth.token?.value?.reveal(), 'hvs.CANARY123');
      for (const text of [JSON.stringify(config), inspect(config, { depth: Infinity })]) {
        assert.equal(text.includes('CANARY123'), false);
        assert.equal(text.includes('MEMCANARY'), false);
      }
      assert.deepEqual(configWarnings(config), [
        'backends[0].address: plain http:// to Vault (tls.insecure: true); use only for development',
        'backends[0].auth.token.value: inline token in the config; use only for development',
      ]);
    });

    it('takes the namespace from POD_NAMESPACE and the log level from VAULTSYNC_LOG_LEVEL', async () => {
      const text = 'backends: [{name: m, type: memory, allowedNamespaces: ["*"]}]';
      const env = { POD_NAMESPACE: 'ops', VAULTSYNC_LOG_LEVEL: 'debug' };
      const config = await load(text, { ...opts, env });
      assert.equal(config.operator.namespace, 'ops');
      assert.equal(config.operator.logLevel, 'debug');
      const explicit = await load(`operator: {namespace: mine}\n${text}`, { ...opts, env });
      assert.equal(explicit.operator.namespace, 'mine');
    });

    it('loads the file named by VAULTSYNC_CONFIG', async () => {
      const config = await loadConfigFromEnv({
        ...opts,
        env: { VAULTSYNC_CONFIG: '/etc/vaultsync/config.yaml' },
      });
      assert.equal(config.backends[0]?.name, 'm');
      await assert.rejects(
        loadConfigFromEnv({ ...opts, env: { VAULTSYNC_CONFIG: '/nope.yaml' } }),
        (err: unknown) => {
          assert.ok(err instanceof ConfigError);
          assert.deepEqual(err.problems, [
            { path: '(file)', message: 'cannot read the config file: no such file' },
          ]);
          assert.match(err.message, /^Invalid operator config \/nope.yaml \(1 problem\):/);
          return true;
        },
      );
    });
  });

  describe('a bad config', () => {
    const cases: { name: string; yaml: string; expect: string[] }[] = [
      {
        name: 'http:// to Vault without tls.insecure',
        yaml: vault('address: "http://vault:8200", auth: {kubernetes: {role: r}}'),
        expect: [
          'backends[0].address: must start with https:// (or set tls.insecure: true to allow http://)',
        ],
      },
      {
        name: 'an address that is not a URL or has credentials',
        yaml:
          vault('address: "not a url", auth: {kubernetes: {role: r}}') +
          '  - {name: v2, type: vault, allowedNamespaces: ["*"], address: "https://u:p@v/?x=1", auth: {kubernetes: {role: r}}}\n' +
          '  - {name: v3, type: vault, allowedNamespaces: ["*"], address: "ftp://v", auth: {kubernetes: {role: r}}}\n',
        expect: [
          'backends[0].address: must be a URL such as https://vault.vault.svc:8200',
          'backends[1].address: must not contain credentials; configure auth instead',
          'backends[1].address: must not contain a query (?) or fragment (#)',
          'backends[2].address: must start with https://',
        ],
      },
      {
        name: 'no auth, or two auth methods',
        yaml:
          vault('address: "https://v", auth: {}') +
          '  - {name: v2, type: vault, allowedNamespaces: ["*"], address: "https://v", auth: {token: {tokenFile: /t}, kubernetes: {role: r}}}\n',
        expect: [
          'backends[0].auth: set exactly one of token, appRole or kubernetes (found none)',
          'backends[1].auth: set exactly one of token, appRole or kubernetes (found token and kubernetes)',
        ],
      },
      {
        name: 'a token source missing or doubled, an AppRole secret id missing',
        yaml:
          vault('address: "https://v", auth: {token: {}}') +
          '  - {name: v2, type: vault, allowedNamespaces: ["*"], address: "https://v", auth: {token: {tokenFile: /t, value: x}}}\n' +
          '  - {name: v3, type: vault, allowedNamespaces: ["*"], address: "https://v", auth: {appRole: {roleId: r}}}\n',
        expect: [
          'backends[0].auth.token: set exactly one of tokenFile, secretRef, value (found none)',
          'backends[1].auth.token: set exactly one of tokenFile, secretRef, value (found tokenFile and value)',
          'backends[2].auth.appRole: set exactly one of secretIdFile, secretIdRef (found none)',
        ],
      },
      {
        name: 'a missing or relative file and a bad secret reference',
        yaml: vault(
          'address: "https://v", auth: {appRole: {roleId: r, secretIdFile: secret-id, secretIdRef: {name: Bad_Name, key: "a b"}}}',
        ),
        expect: [
          'backends[0].auth.appRole.secretIdFile: must be an absolute file path such as /etc/vaultsync/token',
          'backends[0].auth.appRole.secretIdRef.name: must be a lower-case DNS name (letters, digits, "-" and "."), at most 253 characters',
          'backends[0].auth.appRole.secretIdRef.key: must be a Secret data key (letters, digits, "-", "_" and ".")',
          'backends[0].auth.appRole: set exactly one of secretIdFile, secretIdRef (found secretIdFile and secretIdRef)',
        ],
      },
      {
        name: 'CA both inline and from a file, unreadable or not PEM',
        yaml:
          vault(
            'address: "https://v", auth: {kubernetes: {role: r}}, tls: {caFile: /etc/vaultsync/ca.pem, caPem: x}',
          ) +
          '  - {name: v2, type: vault, allowedNamespaces: ["*"], address: "https://v", auth: {kubernetes: {role: r}}, tls: {caFile: /missing.pem}}\n' +
          '  - {name: v3, type: vault, allowedNamespaces: ["*"], address: "https://v", auth: {kubernetes: {role: r}}, tls: {caFile: /etc/vaultsync/not-a-cert}}\n' +
          '  - {name: v4, type: vault, allowedNamespaces: ["*"], address: "https://v", auth: {kubernetes: {role: r}}, tls: {caPem: "not pem"}}\n',
        expect: [
          'backends[0].tls: set either caFile or caPem, not both',
          'backends[1].tls.caFile: cannot read /missing.pem: no such file',
          'backends[2].tls.caFile: /etc/vaultsync/not-a-cert holds no PEM certificate (-----BEGIN CERTIFICATE-----)',
          'backends[3].tls.caPem: must hold PEM certificates (-----BEGIN CERTIFICATE-----)',
        ],
      },
      {
        name: 'typos in field names',
        yaml: vault('adress: "https://v", auth: {kubernetes: {role: r, mountpath: k8s}}'),
        expect: [
          'backends[0].address: is required',
          'backends[0].adress: unknown field; did you mean "address"?',
          'backends[0].auth.kubernetes.mountpath: unknown field; did you mean "mountPath"?',
        ],
      },
      {
        name: 'an unknown field far from any known one',
        yaml: 'operator: {frobnicate: 1}\nbackends: [{name: m, type: memory, allowedNamespaces: ["*"]}]',
        expect: [
          'operator.frobnicate: unknown field; allowed here: namespace, serviceAccountName, watchNamespaces, leaderElection, workers, defaultRefreshInterval, resyncPeriod, metricsAddress, healthAddress, logLevel, annotatePods',
        ],
      },
      {
        name: 'backend names that are not DNS labels or repeat',
        yaml: 'backends:\n  - {name: My_Vault, type: memory, allowedNamespaces: ["*"]}\n  - {name: m, type: memory, allowedNamespaces: ["*"]}\n  - {name: m, type: kubernetes, namespace: s, allowedNamespaces: ["*"]}\n',
        expect: [
          'backends[0].name: must be a DNS label: lower-case letters, digits and "-", starting and ending with a letter or digit, at most 63 characters',
          'backends[2].name: "m" is already the name of backends[1]; names must be unique',
        ],
      },
      {
        name: 'unknown and missing backend types',
        yaml: 'backends:\n  - {name: a, type: consul}\n  - {name: c}\n  - just-a-string\n',
        expect: [
          `backends[0].type: must be one of: ${SUPPORTED}`,
          `backends[1].type: is required; one of: ${SUPPORTED}`,
          'backends[2]: must be a mapping with at least name, type and allowedNamespaces',
        ],
      },
      {
        name: 'no backends',
        yaml: 'operator: {}\nbackends: []\n',
        expect: ['backends: must list at least one backend'],
      },
      {
        name: 'an empty file',
        yaml: '',
        expect: ['backends: is required'],
      },
      {
        name: 'a file that is not a mapping',
        yaml: '- a\n- b\n',
        expect: ['(root): must be a mapping with the fields operator and backends'],
      },
      {
        name: 'YAML syntax errors and duplicate keys, without echoing the source',
        yaml: 'backends:\n  - name: a\n    name: b\n    token: "hvs.SYNTAXCANARY\n',
        expect: [],
      },
      {
        name: 'tenancy rules: missing or empty namespaces, bad globs',
        yaml:
          'backends:\n  - {name: a, type: memory}\n  - {name: b, type: memory, allowedNamespaces: []}\n' +
          '  - {name: c, type: memory, allowedNamespaces: ["Team_A"], allowedPaths: ["/abs", "{ns}/x", "a/../b", "a/**x", "a//b", "a b"]}\n',
        expect: [
          'backends[0].allowedNamespaces: is required',
          'backends[1].allowedNamespaces: must list at least one namespace glob, e.g. ["team-*"] (use ["*"] for all namespaces)',
          'backends[2].allowedNamespaces[0]: must be a namespace name or glob such as "shop", "team-*" or "*"',
          'backends[2].allowedPaths[5]: must be a path glob such as "{namespace}/*", "shared/**" or "apps/db" (letters, digits, "-_./*{}")',
          'backends[2].allowedPaths[0]: must not start or end with "/"',
          'backends[2].allowedPaths[1]: only the placeholder {namespace} is supported',
          'backends[2].allowedPaths[2]: must not contain "." or ".." segments',
          'backends[2].allowedPaths[3]: "**" must be a whole segment, e.g. "{namespace}/**"',
          'backends[2].allowedPaths[4]: must not contain empty segments ("//")',
        ],
      },
      {
        name: '{namespace} not a whole segment, or after "**", in read and write rules',
        yaml:
          'backends:\n  - {name: a, type: memory, allowedNamespaces: ["*"], allowedPaths: ["apps/{namespace}-*", "**/{namespace}/**", "x/{namespace}/**"],' +
          ' allowedWritePaths: ["x{namespace}", "a/**/**/b", "a//b", "/x"]}\n',
        expect: [
          'backends[0].allowedPaths[0]: "{namespace}" must be a whole segment, e.g. "{namespace}/**" or "apps/{namespace}/*" (with "{namespace}-*", namespace "team" would match the paths of "team-a")',
          'backends[0].allowedPaths[1]: "**" must not come before "{namespace}": the namespace segment must be at a fixed depth, e.g. "apps/*/{namespace}/**"',
          'backends[0].allowedWritePaths[0]: "{namespace}" must be a whole segment, e.g. "{namespace}/**" or "apps/{namespace}/*" (with "{namespace}-*", namespace "team" would match the paths of "team-a")',
          'backends[0].allowedWritePaths[2]: must not contain empty segments ("//")',
          'backends[0].allowedWritePaths[3]: must not start or end with "/"',
        ],
      },
      {
        name: 'role globs where {namespace} is not a whole name or token',
        yaml:
          'backends:\n  - {name: p, type: vault-pki, address: "https://v", auth: {token: {value: t}}, allowedNamespaces: ["*"],' +
          ' allowedRoles: ["{namespace}-*", "*.{namespace}", "a/b", "web-{namespace}", "{namespace}", "{namespace}.*", "web_{namespace}", "*"]}\n',
        expect: [
          'backends[0].allowedRoles[0]: "{namespace}" must be the whole role name or be set off by "." or "_", e.g. "{namespace}" or "{namespace}.*" (with "{namespace}-*", namespace "team" would match the roles of "team-a")',
          'backends[0].allowedRoles[1]: "*" must not come before "{namespace}": put fixed text before it, e.g. "web.{namespace}"',
          'backends[0].allowedRoles[2]: must not contain "/" (a role glob matches one whole role name)',
          'backends[0].allowedRoles[3]: "{namespace}" must be the whole role name or be set off by "." or "_", e.g. "{namespace}" or "{namespace}.*" (with "{namespace}-*", namespace "team" would match the roles of "team-a")',
        ],
      },
      {
        name: "a kubernetes backend reading the operator's own namespace, a local CA's or a credential Secret's",
        yaml:
          'operator: {namespace: vs-system}\nbackends:\n  - {name: k, type: kubernetes, namespace: vs-system, allowedNamespaces: ["*"]}\n' +
          '  - {name: ok, type: kubernetes, namespace: vaultsync, allowedNamespaces: ["*"]}\n' +
          '  - {name: ca, type: local-ca, allowedNamespaces: ["*"], ca: {namespace: pki-keys}}\n' +
          '  - {name: k2, type: kubernetes, namespace: pki-keys, allowedNamespaces: ["*"]}\n' +
          '  - {name: v, type: vault, address: "https://v", auth: {appRole: {roleId: r, secretIdRef: {name: s, key: id, namespace: creds}}}, allowedNamespaces: ["*"]}\n' +
          '  - {name: k3, type: kubernetes, namespace: creds, allowedNamespaces: ["*"]}\n',
        expect: [
          'backends[0].namespace: "vs-system" holds the operator\'s own keys and configuration (operator.namespace); keep the source Secrets of a kubernetes backend in another namespace',
          'backends[3].namespace: "pki-keys" holds the key of local CA "ca"; keep the source Secrets of a kubernetes backend in another namespace',
          'backends[5].namespace: "creds" holds credentials of backend "v"; keep the source Secrets of a kubernetes backend in another namespace',
        ],
      },
      {
        name: 'rate limit, breaker and durations out of range',
        yaml: 'backends:\n  - {name: a, type: memory, allowedNamespaces: ["*"], rateLimit: {qps: 0, burst: 1.5, maxWait: soon}, circuitBreaker: {failureThreshold: 0, halfOpenAfter: 30}, timeout: 10, coalesce: {ttl: 5m}}\n',
        expect: [
          'backends[0].rateLimit.qps: must be greater than 0',
          'backends[0].rateLimit.burst: must be a whole number',
          'backends[0].rateLimit.maxWait: must be a duration such as 500ms, 30s, 5m or 1h30m',
          'backends[0].circuitBreaker.failureThreshold: must be at least 1',
          'backends[0].circuitBreaker.halfOpenAfter: must be a duration such as 500ms, 30s, 5m or 1h30m (found a number)',
          'backends[0].timeout: must be a duration such as 500ms, 30s, 5m or 1h30m (found a number)',
          'backends[0].coalesce.ttl: must be at most 1m (values kept longer would outlive a refresh)',
        ],
      },
      {
        name: 'operator section: workers, log level, leader election timing, addresses',
        yaml:
          'operator:\n  workers: 0\n  logLevel: verbose\n  leaderElection: {leaseDuration: 10s, renewDeadline: 15s}\n' +
          '  metricsAddress: ":99999"\n  healthAddress: "localhost"\n' +
          'backends: [{name: m, type: memory, allowedNamespaces: ["*"]}]\n',
        expect: [
          'operator.workers: must be at least 1',
          'operator.healthAddress: must be a listen address such as ":8080", "127.0.0.1:8080" or "[::1]:8080" (or "0" to disable)',
          'operator.logLevel: must be one of: error, warn, info, debug',
          'operator.leaderElection.renewDeadline: must be shorter than leaseDuration',
          'operator.metricsAddress: port must be between 0 and 65535',
        ],
      },
      {
        name: 'the same address for metrics and health; retry period too long',
        yaml:
          'operator: {metricsAddress: ":9000", healthAddress: ":9000", leaderElection: {retryPeriod: 10s}}\n' +
          'backends: [{name: m, type: memory, allowedNamespaces: ["*"]}]\n',
        expect: [
          'operator.leaderElection.retryPeriod: must be shorter than renewDeadline',
          'operator.healthAddress: must differ from metricsAddress',
        ],
      },
      {
        name: 'leader election: no time to retry a renewal',
        yaml:
          'operator: {leaderElection: {renewDeadline: 10s, retryPeriod: 9s}}\n' +
          'backends: [{name: m, type: memory, allowedNamespaces: ["*"]}]\n',
        expect: [
          'operator.leaderElection.retryPeriod: must be below renewDeadline / 1.2, so a failed renewal is retried before the deadline',
        ],
      },
      {
        name: 'leader election: a lease under a second',
        yaml:
          'operator: {leaderElection: {leaseDuration: 900ms, renewDeadline: 600ms, retryPeriod: 200ms}}\n' +
          'backends: [{name: m, type: memory, allowedNamespaces: ["*"]}]\n',
        expect: ['operator.leaderElection.leaseDuration: must be at least 1s'],
      },
      {
        name: 'wrong types everywhere',
        yaml: 'operator: {leaderElection: {enabled: "yes"}}\nbackends:\n  - {name: k, type: kubernetes, namespace: 7, allowedNamespaces: "*", tls: {}}\n',
        expect: [
          'operator.leaderElection.enabled: must be true or false (found a string)',
          'backends[0].tls: unknown field; allowed here: type, name, allowedNamespaces, allowedPaths, allowedWritePaths, rateLimit, circuitBreaker, coalesce, timeout, namespace',
          'backends[0].allowedNamespaces: must be a list (found a string)',
          'backends[0].namespace: must be a DNS label: lower-case letters, digits and "-", starting and ending with a letter or digit, at most 63 characters (found a number)',
        ],
      },
      {
        name: 'kubernetes auth: bad role template, service account mode, audiences',
        yaml: vault(
          'address: "https://v", auth: {kubernetes: {role: "vs-{ns}", serviceAccount: default, audiences: [], mountPath: "/kubernetes/", tokenExpiration: 5m}}',
        ),
        expect: [
          'backends[0].auth.kubernetes.mountPath: must be a mount path such as "secret" or "team/kv" (no leading or trailing "/")',
          'backends[0].auth.kubernetes.serviceAccount: must be one of: resource, operator',
          'backends[0].auth.kubernetes.audiences: must list at least one audience, or be left out (default: [vault])',
          'backends[0].auth.kubernetes.role: only the placeholder {namespace} is supported',
          'backends[0].auth.kubernetes.tokenExpiration: must be at least 10m (the TokenRequest API minimum)',
        ],
      },
      {
        name: 'memory data with bad paths and non-string values',
        yaml: 'backends:\n  - {name: m, type: memory, allowedNamespaces: ["*"], data: {"/abs": {k: v}, "ok/p": {k: 3}, "x/../y": {k: v}, p: [1]}}\n',
        expect: [
          'backends[0].data["ok/p"].k: must be a string value (found a number)',
          'backends[0].data.p: must be a map of key: value (found a list)',
          'backends[0].data["/abs"]: is not a valid path: must not start or end with "/"',
          'backends[0].data["x/../y"]: is not a valid path: must not contain "." or ".." segments',
        ],
      },
      {
        name: 'bad cloud backend fields',
        yaml: `backends:
  - {name: a, type: aws-secrets-manager, allowedNamespaces: ["*"], region: Europe, endpoint: "http://moto:5000/x"}
  - {name: b, type: aws-secrets-manager, allowedNamespaces: ["*"], region: eu-west-1, tls: {insecure: true}, auth: {static: {accessKeyIdRef: {name: a, key: b}}}}
  - {name: c, type: gcp-secret-manager, allowedNamespaces: ["*"], project: P, tls: {insecure: true}}
  - {name: d, type: azure-key-vault, allowedNamespaces: ["*"], vaultUrl: "http://v.vault.azure.net", auth: {emulator: {}, managedIdentity: {}}}
  - {name: e, type: azure-key-vault, allowedNamespaces: ["*"], vaultUrl: "https://v.vault.azure.net", auth: {clientSecret: {tenantId: t, clientId: 00000000-0000-0000-0000-000000000001}}}
`,
        expect: [
          'backends[0].region: must be an AWS region such as eu-west-1',
          'backends[0].endpoint: must start with https:// (or set tls.insecure: true to allow http:// to an emulator)',
          'backends[0].endpoint: must not contain a path; e.g. https://secretsmanager.eu-west-1.amazonaws.com',
          'backends[1].auth.static.secretAccessKeyRef: is required',
          'backends[1].tls.insecure: is only allowed with an endpoint (an emulator)',
          'backends[2].project: must be a Google Cloud project ID such as my-project-123 (or a project number)',
          'backends[2].tls.insecure: is only allowed with an endpoint (an emulator)',
          'backends[3].vaultUrl: must start with https:// (Key Vault clients send tokens only over TLS)',
          'backends[3].auth: set at most one of workloadIdentity, managedIdentity, clientSecret or emulator (found managedIdentity and emulator)',
          'backends[4].auth.clientSecret.clientSecretRef: is required',
          'backends[4].auth.clientSecret.tenantId: must be the tenant ID (a GUID)',
        ],
      },
      {
        name: 'a bad or repeated watchNamespaces entry',
        yaml:
          'operator: {watchNamespaces: [shop, Team_A, payments, shop]}\n' +
          'backends: [{name: m, type: memory, allowedNamespaces: ["*"]}]\n',
        expect: [
          'operator.watchNamespaces[1]: must be a DNS label: lower-case letters, digits and "-", starting and ending with a letter or digit, at most 63 characters',
        ],
      },
      {
        name: 'a namespace listed twice in watchNamespaces',
        yaml:
          'operator: {watchNamespaces: [shop, payments, shop]}\n' +
          'backends: [{name: m, type: memory, allowedNamespaces: ["*"]}]\n',
        expect: ['operator.watchNamespaces[2]: "shop" is already listed at watchNamespaces[0]'],
      },
      {
        name: 'watchNamespaces that is not a list',
        yaml: 'operator: {watchNamespaces: shop}\nbackends: [{name: m, type: memory, allowedNamespaces: ["*"]}]\n',
        expect: ['operator.watchNamespaces: must be a list (found a string)'],
      },
      {
        name: 'a bad log level from the environment names the variable',
        yaml: 'backends: [{name: m, type: memory, allowedNamespaces: ["*"]}]\n',
        expect: ['operator.logLevel (from VAULTSYNC_LOG_LEVEL): must be one of: error, warn, info, debug'],
      },
    ];

    for (const c of cases) {
      it(`reports ${c.name}`, async () => {
        const env = c.name.includes('environment') ? { VAULTSYNC_LOG_LEVEL: 'loud' } : {};
        const got = await problems(c.yaml, { ...opts, env });
        if (c.name.startsWith('YAML')) {
          assert.ok(got.length >= 1);
          for (const p of got) assert.match(p, /^\(yaml\): line \d+, column \d+: /);
          assert.equal(got.join('\n').includes('SYNTAXCANARY'), false);
          return;
        }
        assert.deepEqual(got, c.expect);
      });
    }

    it('lists every problem of the file in one error', async () => {
      try {
        await load(
          vault(
            'address: "http://v", auth: {token: {value: hvs.ERRCANARY}, appRole: {roleId: r, secretIdFile: /s}}',
          ) + '  - {name: vault, type: memory}\n',
        );
        assert.fail('expected an error');
      } catch (err) {
        assert.ok(err instanceof ConfigError);
        assert.equal(err.problems.length, 4);
        assert.match(err.message, /^Invalid operator config test\.yaml \(4 problems\):\n {2}- /);
        assert.match(err.message, /backends\[0\]\.address: must start with https:\/\//);
        assert.match(err.message, /backends\[1\]\.allowedNamespaces: is required/);
        for (const text of [err.message, JSON.stringify(err), inspect(err)]) {
          assert.equal(text.includes('ERRCANARY'), false);
        }
      }
    });
  });
});
