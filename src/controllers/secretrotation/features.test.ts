import assert from 'node:assert/strict';
import type { SecretRotationSpec } from '../../apis/v1alpha1/index.ts';
import { disabledRestartMode } from './features.ts';

describe('SecretRotation features the config must turn on', () => {
  const spec = (mode?: 'Restart' | 'AnnotatePods') =>
    ({
      backend: 'b',
      path: 'p',
      generator: { type: 'uuid' },
      ...(mode && { restart: { mode } }),
    }) as unknown as SecretRotationSpec;

  it('refuses restart.mode AnnotatePods unless operator.annotatePods is on, naming the setting', () => {
    assert.match(disabledRestartMode(spec('AnnotatePods'), false) ?? '', /operator\.annotatePods: true/);
    assert.equal(disabledRestartMode(spec('AnnotatePods'), true), undefined);
  });

  it('lets Restart (the default) through either way', () => {
    for (const enabled of [true, false]) {
      assert.equal(disabledRestartMode(spec(), enabled), undefined);
      assert.equal(disabledRestartMode(spec('Restart'), enabled), undefined);
    }
  });
});
