import assert from 'node:assert/strict';
import { FakeClock } from '../../kube/fake-clock.ts';
import { type DueInput, nextRotationAfter, rotationDue } from './schedule.ts';

/** Drives rotationDue with a fake clock, rotating whenever it says so; returns the rotation times. */
function simulate(spec: DueInput['spec'], from: string, until: string): string[] {
  const clock = new FakeClock(Date.parse(from));
  const created = clock.now();
  const end = Date.parse(until);
  const fired: string[] = [];
  let last: number | undefined;
  while (clock.now() < end) {
    const d = rotationDue({
      spec,
      created,
      missingValues: false,
      manual: false,
      now: clock.now(),
      ...(last !== undefined && { lastRotation: last }),
    });
    if (d.due) {
      fired.push(new Date(clock.now()).toISOString());
      last = clock.now();
      continue;
    }
    if (d.next === undefined) break;
    clock.advance(Math.min(d.next, end) - clock.now());
  }
  return fired;
}

describe('rotation schedule', () => {
  it('fires a cron schedule at the expected times in its time zone, across a DST change', () => {
    // 03:00 every Sunday, Berlin: CET (UTC+1) until the last Sunday of March, then CEST (UTC+2).
    assert.deepEqual(
      simulate(
        { schedule: '0 3 * * 0', timeZone: 'Europe/Berlin' },
        '2030-03-13T12:00:00Z',
        '2030-04-08T00:00:00Z',
      ),
      [
        '2030-03-17T02:00:00.000Z',
        '2030-03-24T02:00:00.000Z',
        '2030-03-31T01:00:00.000Z',
        '2030-04-07T01:00:00.000Z',
      ],
    );
  });

  it('reads a schedule without time zone in UTC; day-of-month and day-of-week are OR-ed', () => {
    assert.deepEqual(simulate({ schedule: '30 4 1 * MON' }, '2030-01-01T05:00:00Z', '2030-01-16T00:00:00Z'), [
      '2030-01-07T04:30:00.000Z',
      '2030-01-14T04:30:00.000Z',
    ]);
  });

  it('counts an interval from the previous rotation', () => {
    assert.deepEqual(simulate({ interval: '36h' }, '2030-01-01T00:00:00Z', '2030-01-05T00:00:00Z'), [
      '2030-01-02T12:00:00.000Z',
      '2030-01-04T00:00:00.000Z',
    ]);
    assert.equal(nextRotationAfter({ interval: '1m' }, 0), 60_000);
  });

  it('rotates at once for missing values or a manual request, never while suspended', () => {
    const base = { spec: { interval: '720h' }, created: 0, missingValues: false, manual: false, now: 1000 };
    assert.deepEqual(rotationDue(base), { due: false, why: 'NotYet', next: 720 * 3_600_000 });
    assert.equal(rotationDue({ ...base, missingValues: true }).why, 'Initial');
    assert.equal(rotationDue({ ...base, manual: true }).why, 'Manual');
    assert.equal(
      rotationDue({ ...base, spec: { interval: '1m', suspend: true }, now: 10 * 60_000 }).why,
      'Suspended',
    );
    assert.equal(rotationDue({ ...base, spec: { interval: '1m', suspend: true }, manual: true }).due, true);
  });

  it('catches up a time missed while the operator was down once, not once per missed time', () => {
    const d = rotationDue({
      spec: { interval: '1h' },
      created: 0,
      lastRotation: 0,
      missingValues: false,
      manual: false,
      now: 10 * 3_600_000,
    });
    assert.equal(d.due && d.why, 'Scheduled');
  });
});
