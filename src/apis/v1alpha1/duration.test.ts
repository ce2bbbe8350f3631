import assert from 'node:assert/strict';
import { Value } from '@sinclair/typebox/value';
import { Duration as ConfigDuration } from '../../config/schema.ts';
import { formatDuration, isDuration, parseDuration } from './duration.ts';

describe('the one duration grammar', () => {
  it('parses Go durations without sign, exactly', () => {
    assert.equal(parseDuration('0'), 0);
    assert.equal(parseDuration('30s'), 30_000);
    assert.equal(parseDuration('2160h'), 2160 * 3_600_000);
    assert.equal(parseDuration('1h30m'), 5_400_000);
    assert.equal(parseDuration('1.5h'), 5_400_000);
    assert.equal(parseDuration('250ms'), 250);
    assert.equal(parseDuration('1500us'), 1.5);
    assert.equal(parseDuration('2µs'), 0.002);
    assert.equal(parseDuration('1000000ns'), 1);
  });

  it('refuses what a Go duration without sign is not', () => {
    for (const bad of ['', '5', '5 minutes', '-1s', '1d', 'h', '1h ', '1 s', 'soon', '1.s', '.5s']) {
      assert.equal(isDuration(bad), false, bad);
      assert.throws(() => parseDuration(bad), RangeError, bad);
    }
  });

  it('formats whole milliseconds back into the grammar', () => {
    for (const ms of [0, 250, 45_000, 5_400_000, 3_723_004])
      assert.equal(parseDuration(formatDuration(ms)), ms);
    assert.equal(formatDuration(5_400_000), '1h30m');
  });

  it('is the config grammar too: whole milliseconds once decoded', () => {
    const schema = ConfigDuration();
    assert.equal(Value.Decode(schema, '1h30m'), 5_400_000);
    assert.equal(Value.Decode(schema, '1500us'), 2);
    assert.throws(() => Value.Decode(schema, '1d'));
  });
});
