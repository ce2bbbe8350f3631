import assert from 'node:assert/strict';
import type { SecretRotationStatus } from '../../apis/v1alpha1/index.ts';
import {
  failureStatus,
  retiredStatus,
  rolledBackStatus,
  rollbackRefusedStatus,
  rolledBackToStatus,
  rolledOutStatus,
  rollingOutStatus,
  rolloutFailedStatus,
  rotatingStatus,
  statusPatch,
  upsertHistory,
  waitingStatus,
} from './status.ts';

const NOW = Date.parse('2030-01-01T00:00:00Z');
const at = { generation: 3, now: NOW };
const ready = (s: SecretRotationStatus) => s.conditions?.find((c) => c.type === 'Ready');
const rolledOut = (s: SecretRotationStatus) => s.conditions?.find((c) => c.type === 'RolledOut');

describe('SecretRotation status', () => {
  it('writes status only when it changed, removing fields with null', () => {
    assert.equal(statusPatch({ phase: 'Idle' }, { phase: 'Idle' }), undefined);
    assert.deepEqual(statusPatch({ phase: 'Idle', previousVersion: '1' }, { phase: 'Idle' }), {
      previousVersion: null,
    });
    assert.equal(
      statusPatch(
        { history: [{ version: '1', time: 't', outcome: 'Failed' }] },
        {
          history: [{ outcome: 'Failed', time: 't', version: '1' }],
        },
      ),
      undefined,
      'key order does not matter',
    );
  });

  it('waiting: Scheduled before the first rotation, Rotated after, Suspended; a failure keeps its condition', () => {
    const next = NOW + 3_600_000;
    const first = waitingStatus({}, 'Idle', { due: false, why: 'NotYet', next }, at);
    assert.equal(first.phase, 'Idle');
    assert.equal(first.nextRotationTime, '2030-01-01T01:00:00Z');
    assert.equal(ready(first)?.reason, 'Scheduled');
    assert.equal(
      ready(first)?.message,
      'Waiting for the first rotation; next rotation at 2030-01-01T01:00:00Z',
    );
    const later = waitingStatus(
      { lastRotationTime: '2029-12-31T00:00:00Z', currentVersion: '4' },
      'Idle',
      { due: false, why: 'NotYet', next },
      at,
    );
    assert.equal(ready(later)?.reason, 'Rotated');
    assert.match(ready(later)?.message ?? '', /^Rotated to version 4; next rotation at/);
    const kept = waitingStatus(later, 'Idle', { due: false, why: 'NotYet', next: next + 1000 }, at);
    assert.equal(ready(kept)?.message, ready(later)?.message, 'a Rotated message is kept');
    const suspended = waitingStatus({}, 'Idle', { due: false, why: 'Suspended' }, at);
    assert.equal(ready(suspended)?.reason, 'Suspended');
    assert.equal(suspended.nextRotationTime, undefined);
    const failed = failureStatus({}, { reason: 'RolloutNotReady', message: 'm' }, 'Failed', at);
    const stillFailed = waitingStatus(failed, 'Failed', { due: false, why: 'NotYet', next }, at);
    assert.equal(ready(stillFailed)?.reason, 'RolloutNotReady');
    assert.equal(stillFailed.phase, 'Failed');
  });

  it('rotating records the version it replaces before the write', () => {
    const s = rotatingStatus(
      { previousVersion: 'stale' },
      'Rotating',
      { path: 'shop/db', why: 'Manual', handledToken: 'sha256:x', replaces: '7' },
      at,
    );
    assert.equal(s.phase, 'Rotating');
    assert.equal(s.previousVersion, '7');
    assert.equal(s.rotateNowHandled, 'sha256:x');
    assert.equal(ready(s)?.message, 'Rotating shop/db (manual)');
    assert.equal(
      rotatingStatus({ previousVersion: 'stale' }, 'Rotating', { path: 'p', why: 'Initial' }, at)
        .previousVersion,
      undefined,
    );
  });

  it('rolling out: the new version, its time, the next time, RolledOut=False', () => {
    const s = rollingOutStatus(
      { previousVersion: '1', nextRotationTime: 'old' },
      'RollingOut',
      { path: 'shop/db', version: '2', rotatedAt: NOW, nextAt: undefined, previousVersion: undefined },
      at,
    );
    assert.equal(s.currentVersion, '2');
    assert.equal(s.previousVersion, undefined, 'Replace keeps no previous version');
    assert.equal(s.nextRotationTime, undefined);
    assert.equal(s.lastRotationTime, '2030-01-01T00:00:00Z');
    assert.equal(ready(s)?.reason, 'RollingOut');
    assert.equal(rolledOut(s)?.message, 'Rolling out version 2');
  });

  it('rolled out: Retiring keeps Ready=False until the previous value is gone; history says Succeeded', () => {
    const base = { currentVersion: '2', lastRotationTime: '2030-01-01T00:00:00Z' };
    const retiring = rolledOutStatus(base, 'Retiring', '1 consumer(s) ready with version 2', '1h', at);
    assert.equal(ready(retiring)?.status, 'False');
    assert.match(ready(retiring)?.message ?? '', /retired after 1h$/);
    assert.equal(rolledOut(retiring)?.status, 'True');
    assert.deepEqual(retiring.history, [
      { version: '2', time: '2030-01-01T00:00:00Z', outcome: 'Succeeded' },
    ]);
    const done = rolledOutStatus(base, 'Idle', 'summary', '1h', at);
    assert.equal(ready(done)?.status, 'True');
    assert.equal(ready(done)?.message, 'Rotated to version 2; summary');
    const retired = retiredStatus({ ...retiring, previousVersion: '1' }, 'Idle', '3', at);
    assert.equal(retired.currentVersion, '3');
    assert.equal(retired.previousVersion, undefined);
    assert.equal(ready(retired)?.status, 'True');
  });

  it('failed and rolled back rollouts say why in Ready, RolledOut and the history (capped)', () => {
    const long = 'x'.repeat(2000);
    const failed = rolloutFailedStatus({ currentVersion: '2' }, 'Failed', 'RolloutNotReady', long, at);
    assert.equal(failed.phase, 'Failed');
    assert.equal(rolledOut(failed)?.reason, 'RolloutNotReady');
    assert.equal(failed.history?.[0]?.message?.length, 1024);
    const back = rolledBackStatus(
      { currentVersion: '2', previousVersion: '1' },
      'RolledBack',
      '3',
      'why',
      at,
    );
    assert.equal(back.currentVersion, '3');
    assert.equal(back.previousVersion, undefined);
    assert.deepEqual(back.history?.[0], {
      version: '2',
      time: '2030-01-01T00:00:00Z',
      outcome: 'RolledBack',
      message: 'why',
    });
  });

  it('a failure keeps no phase it did not have', () => {
    const s = failureStatus({}, { reason: 'InvalidSpec', message: 'bad' }, undefined, at);
    assert.equal(s.phase, undefined);
    assert.equal(s.observedGeneration, 3);
    assert.equal(ready(s)?.observedGeneration, 3);
  });

  it('keeps the ten latest rotations, one entry per version', () => {
    let s: SecretRotationStatus = {};
    for (let v = 1; v <= 12; v++)
      s = { history: upsertHistory(s, { version: String(v), time: 't', outcome: 'Succeeded' }) };
    s = { history: upsertHistory(s, { version: '12', time: 't', outcome: 'Failed' }) };
    assert.equal(s.history?.length, 10);
    assert.deepEqual(
      s.history?.slice(0, 2).map((h) => `${h.version} ${h.outcome}`),
      ['12 Failed', '11 Succeeded'],
    );
  });

  it('keeps spec.historyLimit rotations (the stamp carries it); 0 keeps none and drops the field', () => {
    const three = { ...at, historyLimit: 3 };
    let s: SecretRotationStatus = { currentVersion: '1', lastRotationTime: 't' };
    for (let v = 1; v <= 5; v++)
      s = rolledOutStatus({ ...s, currentVersion: String(v) }, 'Idle', 'ok', '', three);
    assert.deepEqual(
      s.history?.map((h) => h.version),
      ['5', '4', '3'],
    );
    const none = rolledOutStatus({ ...s, currentVersion: '6' }, 'Idle', 'ok', '', { ...at, historyLimit: 0 });
    assert.ok(!none.history, 'no history kept');
    assert.equal(statusPatch(s, none)?.history, null, 'the patch removes the field');
    assert.equal(upsertHistory({}, { version: '1', time: 't', outcome: 'Succeeded' }, 50)?.length, 1);
  });

  it('a rollback by hand: the restored version rolls out, its entry says RolledBack and restoredFrom, kept once rolled out', () => {
    const before: SecretRotationStatus = {
      phase: 'Retiring',
      currentVersion: '3',
      previousVersion: '2',
      history: [{ version: '3', time: 't3', outcome: 'Succeeded' }],
    };
    const r = { path: 'shop/db', from: '1', version: '4', handledToken: 'sha256:x', rolledBackAt: NOW };
    const s = rolledBackToStatus(before, 'RollingOut', { ...r, nextAt: NOW + 60_000 }, at);
    assert.equal(s.phase, 'RollingOut');
    assert.equal(s.currentVersion, '4');
    assert.equal(s.previousVersion, undefined, 'nothing of the bad rotation to retire');
    assert.equal(s.rollbackToHandled, 'sha256:x');
    assert.equal(s.lastRotationTime, '2030-01-01T00:00:00Z');
    assert.equal(s.nextRotationTime, '2030-01-01T00:01:00Z');
    assert.equal(ready(s)?.reason, 'RollingOut');
    assert.match(ready(s)?.message ?? '', /^Rolled back to version 1 of shop\/db \(now version 4\)/);
    assert.equal(rolledOut(s)?.status, 'False');
    const entry = { version: '4', time: '2030-01-01T00:00:00Z', outcome: 'RolledBack' };
    assert.deepEqual(s.history?.[0], { ...entry, message: 'Rolled back to version 1', restoredFrom: '1' });
    const done = rolledOutStatus(s, 'Idle', '1 consumer(s) ready', '1h', at);
    assert.deepEqual(done.history?.[0], { ...entry, restoredFrom: '1' }, 'still a rollback, not a rotation');
    assert.equal(done.history?.[1]?.version, '3');
    const failed = rolloutFailedStatus(s, 'Failed', 'RolloutNotReady', 'api not ready', at);
    assert.deepEqual(failed.history?.[0], {
      ...entry,
      outcome: 'Failed',
      message: 'api not ready',
      restoredFrom: '1',
    });
  });

  it('a refused rollback: answered, Ready=False RollbackRefused, nothing else changes', () => {
    const before: SecretRotationStatus = { phase: 'Idle', currentVersion: '3', lastRotationTime: 't' };
    const s = rollbackRefusedStatus(before, 'Failed', 'sha256:y', 'version 9 does not exist', at);
    assert.deepEqual(
      { ...s, conditions: undefined },
      {
        ...before,
        phase: 'Failed',
        observedGeneration: 3,
        rollbackToHandled: 'sha256:y',
        conditions: undefined,
      },
    );
    assert.equal(ready(s)?.reason, 'RollbackRefused');
    assert.equal(ready(s)?.message, 'version 9 does not exist');
  });
});
