import assert from 'node:assert/strict';
import { loadInvalidCases, loadSamples } from '../../../test/admission/cases.ts';
import { CRON_PATTERN } from './common.ts';
import { validateResource, validateSpec } from './validation.ts';

const vaultSecret = (spec: Record<string, unknown> = {}) => ({
  backend: 'vault',
  data: [{ secretKey: 'password', remoteRef: { path: 'shop/db', property: 'password' } }],
  ...spec,
});

const certificate = (spec: Record<string, unknown> = {}) => ({
  issuer: { backend: 'local-ca' },
  dnsNames: ['api.shop.svc'],
  secretName: 'api-tls',
  ...spec,
});

const rotation = (spec: Record<string, unknown> = {}) => ({
  backend: 'vault',
  path: 'shop/db',
  interval: '720h',
  generate: { password: { type: 'password' } },
  ...spec,
});

const includes = (errors: string[], text: string) =>
  assert.ok(
    errors.some((e) => e.includes(text)),
    `expected an error containing ${JSON.stringify(text)}, got ${JSON.stringify(errors)}`,
  );

describe('validateSpec', () => {
  it('accepts minimal specs of every kind', () => {
    assert.deepEqual(validateSpec('VaultSecret', vaultSecret()), []);
    assert.deepEqual(validateSpec('VaultCertificate', certificate()), []);
    assert.deepEqual(validateSpec('SecretRotation', rotation()), []);
  });

  it('reports a missing required field once, with its path', () => {
    const errors = validateSpec('VaultSecret', vaultSecret({ backend: undefined }));
    assert.ok(errors.includes('spec.backend: Required value'), JSON.stringify(errors));
    assert.equal(errors.filter((e) => e.startsWith('spec.backend')).length, 1);
  });

  it('names list items by index and map entries by key', () => {
    const data = [
      { secretKey: 'ok', remoteRef: { path: 'shop/db' } },
      { secretKey: 'not ok', remoteRef: { path: 'shop/db' } },
    ];
    includes(
      validateSpec('VaultSecret', vaultSecret({ data })),
      'spec.data[1].secretKey: Invalid value: "not ok": should match \'^[-._a-zA-Z0-9]+$\'',
    );
    const generate = { password: { type: 'password', length: 4 } };
    includes(
      validateSpec('SecretRotation', rotation({ generate })),
      'spec.generate[password].length: Invalid value',
    );
  });

  it('words enum violations like the apiserver', () => {
    includes(
      validateSpec('VaultSecret', vaultSecret({ target: { creationPolicy: 'Adopt' } })),
      'spec.target.creationPolicy: Unsupported value: "Adopt": supported values: "Owner", "Orphan", "Merge"',
    );
  });

  it('skips CEL rules when a blocking error exists, as the apiserver does', () => {
    const errors = validateSpec('VaultSecret', {
      backend: 'vault',
      data: [],
      target: { creationPolicy: 'Adopt' },
    });
    includes(errors, 'some validation rules were not checked');
    assert.ok(!errors.some((e) => e.includes('data and dataFrom are both empty')), JSON.stringify(errors));
  });

  it('reports unknown fields and duplicate list entries', () => {
    includes(
      validateSpec('VaultSecret', vaultSecret({ refreshIntervall: '5m' })),
      'spec.refreshIntervall: Unknown field',
    );
    const targets = [
      { kind: 'Deployment', name: 'api' },
      { kind: 'Deployment', name: 'api' },
    ];
    includes(
      validateSpec('VaultSecret', vaultSecret({ rolloutRestartTargets: targets })),
      'spec.rolloutRestartTargets[1]: Duplicate value',
    );
  });

  it('treats null as absent, like the apiserver', () => {
    assert.deepEqual(validateSpec('VaultSecret', vaultSecret({ target: null, refreshInterval: null })), []);
  });

  it('runs cross-field rules', () => {
    includes(
      validateSpec('VaultCertificate', certificate({ duration: '720h', renewBefore: '721h' })),
      'spec.renewBefore: Invalid value: "object": renewBefore must be shorter than duration',
    );
    assert.deepEqual(
      validateSpec('VaultCertificate', certificate({ duration: '720h', renewBefore: '719h59m' })),
      [],
    );
    includes(
      validateSpec('SecretRotation', rotation({ schedule: '0 3 * * 0' })),
      'set exactly one of schedule',
    );
  });

  it('applies the key size rules with ECDSA as the default algorithm', () => {
    includes(
      validateSpec('VaultCertificate', certificate({ privateKey: { size: 2048 } })),
      'size must be 256 or 384',
    );
    assert.deepEqual(validateSpec('VaultCertificate', certificate({ privateKey: { size: 384 } })), []);
    assert.deepEqual(
      validateSpec('VaultCertificate', certificate({ privateKey: { algorithm: 'RSA', size: 4096 } })),
      [],
    );
  });

  it('requires a spec', () => {
    assert.deepEqual(validateSpec('VaultSecret', undefined), ['spec: Required value']);
  });
});

describe('validateResource', () => {
  it('checks apiVersion, kind and metadata.name', () => {
    includes(
      validateResource({
        apiVersion: 'v1',
        kind: 'VaultSecret',
        metadata: { name: 'x' },
        spec: vaultSecret(),
      }),
      'apiVersion: Unsupported value',
    );
    includes(
      validateResource({ apiVersion: 'vaultsync.io/v1alpha1', kind: 'Secret' }),
      'kind: Unsupported value',
    );
    includes(
      validateResource({ apiVersion: 'vaultsync.io/v1alpha1', kind: 'VaultSecret', spec: vaultSecret() }),
      'metadata.name: Required value',
    );
  });

  describe('accepts every sample in config/samples', () => {
    const samples = loadSamples();
    it('has samples of every kind', () => {
      assert.deepEqual([...new Set(samples.map((s) => s.object.kind))].sort(), [
        'SecretRotation',
        'VaultCertificate',
        'VaultSecret',
      ]);
    });
    for (const sample of samples) {
      it(`${sample.file} (${String((sample.object.metadata as { name?: string }).name)})`, () => {
        assert.deepEqual(validateResource(sample.object), []);
      });
    }
  });

  describe('rejects every case in test/admission/invalid with the expected message', () => {
    const cases = loadInvalidCases();
    it('has at least 20 cases', () => assert.ok(cases.length >= 20));
    for (const c of cases) {
      it(c.file, () => {
        const o = c.object as { metadata?: { name?: string; namespace?: string } };
        assert.ok(o.metadata?.name && !o.metadata.namespace, 'metadata.name set, namespace omitted');
        includes(validateResource(c.object), c.expect);
      });
    }
  });
});

describe('CRON_PATTERN', () => {
  const cron = new RegExp(CRON_PATTERN);
  it('accepts five-field cron expressions', () => {
    for (const ok of [
      '0 3 * * 0',
      '*/15 * * * *',
      '0 9-17 * * MON-FRI',
      '30 2 1,15 jan,jul *',
      '0 0 * * 7',
      '5 4 31 12 sun',
    ]) {
      assert.ok(cron.test(ok), ok);
    }
  });
  it('rejects everything else', () => {
    for (const bad of [
      'every day',
      '* * * *',
      '* * * * * *',
      '60 * * * *',
      '0 24 * * *',
      '0 0 32 * *',
      '0 0 * 13 *',
      '0 0 * * 8',
      '@daily',
    ]) {
      assert.ok(!cron.test(bad), bad);
    }
  });
});
