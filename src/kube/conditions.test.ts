import assert from 'node:assert/strict';
import {
  type Condition,
  conditionsEqual,
  getCondition,
  isFalse,
  isTrue,
  removeCondition,
  setCondition,
} from './conditions.ts';

const t0 = Date.UTC(2030, 0, 1, 0, 0, 0, 123);
const t1 = t0 + 60_000;

const ready = (status: Condition['status'], reason = 'Synced', message = 'ok') => ({
  type: 'Ready',
  status,
  reason,
  message,
  observedGeneration: 1,
});

describe('conditions', () => {
  it('stamps a new condition with the current time in whole seconds', () => {
    const list = setCondition([], ready('True'), t0);
    assert.equal(list[0]?.lastTransitionTime, '2030-01-01T00:00:00Z');
  });

  it('keeps lastTransitionTime when the status does not change, while taking the new reason and message', () => {
    const first = setCondition([], ready('False', 'BackendError', 'vault sealed'), t0);
    const second = setCondition(
      first,
      { ...ready('False', 'AuthFailed', 'denied'), observedGeneration: 2 },
      t1,
    );
    assert.equal(second[0]?.lastTransitionTime, first[0]?.lastTransitionTime);
    assert.equal(second[0]?.reason, 'AuthFailed');
    assert.equal(second[0]?.message, 'denied');
    assert.equal(second[0]?.observedGeneration, 2);
  });

  it('moves lastTransitionTime when the status changes', () => {
    const first = setCondition([], ready('False'), t0);
    const second = setCondition(first, ready('True'), t1);
    assert.equal(second[0]?.lastTransitionTime, '2030-01-01T00:01:00Z');
  });

  it('returns a new list and leaves the input untouched', () => {
    const first = setCondition([], ready('False'), t0);
    const frozen = structuredClone(first);
    const second = setCondition(first, ready('True'), t1);
    assert.notEqual(second, first);
    assert.deepEqual(first, frozen);
  });

  it('keeps the position of an existing type and appends a new one', () => {
    let list = setCondition(undefined, ready('True'), t0);
    list = setCondition(list, { type: 'Issuing', status: 'True', reason: 'Renewing', message: '' }, t0);
    list = setCondition(list, ready('False'), t1);
    assert.deepEqual(
      list.map((c) => c.type),
      ['Ready', 'Issuing'],
    );
  });

  it('answers getCondition, isTrue and isFalse', () => {
    const list = setCondition([], ready('True'), t0);
    assert.equal(getCondition(list, 'Ready')?.reason, 'Synced');
    assert.equal(isTrue(list, 'Ready'), true);
    assert.equal(isFalse(list, 'Ready'), false);
    assert.equal(isTrue(list, 'Missing'), false);
    assert.equal(isTrue(undefined, 'Ready'), false);
  });

  it('removes a condition by type', () => {
    const list = setCondition(setCondition([], ready('True'), t0), { ...ready('True'), type: 'Other' }, t0);
    assert.deepEqual(
      removeCondition(list, 'Ready').map((c) => c.type),
      ['Other'],
    );
  });

  describe('conditionsEqual', () => {
    const a = setCondition(setCondition([], ready('True'), t0), { ...ready('False'), type: 'Issuing' }, t0);

    it('ignores order', () => {
      assert.equal(conditionsEqual(a, [...a].reverse()), true);
    });

    it('sees a change in any field, including time and generation', () => {
      for (const change of [
        { status: 'False' as const },
        { reason: 'Other' },
        { message: 'changed' },
        { observedGeneration: 9 },
        { lastTransitionTime: '2031-01-01T00:00:00Z' },
      ]) {
        const b = a.map((c, i) => (i === 0 ? { ...c, ...change } : c));
        assert.equal(conditionsEqual(a, b), false, JSON.stringify(change));
      }
    });

    it('treats undefined as empty and different lengths or types as different', () => {
      assert.equal(conditionsEqual(undefined, []), true);
      assert.equal(conditionsEqual(a, a.slice(1)), false);
      assert.equal(conditionsEqual([a[0]!, a[0]!], a), false);
    });
  });
});
