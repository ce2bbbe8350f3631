// The audit sink on real files: rotation by size with a bounded number of files, and write
// failures reported per line (a path under a regular file cannot be created, as on a disk that
// went read-only or away).
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { type AuditEntry, createAuditLog } from './audit.ts';

const entry = (i: number): AuditEntry => ({
  action: 'secrets.get',
  outcome: 'allowed',
  status: 200,
  requestId: `req-${i}`,
  namespace: 'team-a',
  resource: `team-a/path-${i}`,
});

describe('audit log sink', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'vaultsync-audit-test-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('rotates the file at maxSize and keeps maxFiles files in all, the newest lines in the live file', async () => {
    const path = join(dir, 'audit.log');
    const log = createAuditLog({ sink: 'file', path, maxSize: 4096, maxFiles: 3 });
    for (let i = 0; i < 200; i++) await log.record(entry(i)); // ~30 KiB: several rotations
    await log.close();
    assert.deepEqual(readdirSync(dir).sort(), ['audit.log', 'audit.log.1', 'audit.log.2']);
    const lineBytes = Buffer.byteLength(readFileSync(path, 'utf8').split('\n')[0]!) + 1;
    for (const f of readdirSync(dir)) {
      assert.ok(statSync(join(dir, f)).size < 4096 + lineBytes, `${f} is bounded by maxSize (plus one line)`);
    }
    const last = readFileSync(path, 'utf8').trim().split('\n').at(-1)!;
    assert.equal((JSON.parse(last) as { requestId: string }).requestId, 'req-199');
    const older = readFileSync(join(dir, 'audit.log.1'), 'utf8').trim().split('\n');
    const ids = older.map((l) => Number((JSON.parse(l) as { requestId: string }).requestId.slice(4)));
    assert.ok(Math.max(...ids) < 199 && Math.max(...ids) > 150, 'audit.log.1 holds the lines just before');
  });

  it('writes JSON lines tagged audit, with a timestamp', async () => {
    const path = join(dir, 'audit.log');
    const log = createAuditLog({ sink: 'file', path });
    await log.record(entry(1));
    await log.close();
    const line = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
    assert.equal(line.audit, true);
    assert.equal(line.action, 'secrets.get');
    assert.match(String(line.timestamp), /^\d{4}-\d\d-\d\dT/);
  });

  it('rejects a line that cannot be written and reports the sink unhealthy', async () => {
    writeFileSync(join(dir, 'not-a-dir'), '');
    const log = createAuditLog({ sink: 'file', path: join(dir, 'not-a-dir', 'audit.log'), failClosed: true });
    assert.equal(log.failClosed, true);
    await assert.rejects(Promise.resolve(log.record(entry(1))), /audit line not written: .*ENOTDIR/);
    assert.equal(log.healthy?.(), false);
    await assert.rejects(Promise.resolve(log.record(entry(2))), /audit line not written/);
    await log.close();
  });

  it('opens the sink again after a failure, and is healthy once a line is written', async () => {
    const lines: string[] = [];
    let opened = 0;
    const log = createAuditLog(
      { sink: 'file', path: '/unused' },
      {
        stream: () => {
          opened++;
          const s = new PassThrough({
            write(chunk, _enc, done) {
              if (opened === 1) return done(new Error('EIO: disk gone'));
              lines.push(String(chunk));
              done();
            },
          });
          s.resume();
          return s;
        },
      },
    );
    await assert.rejects(Promise.resolve(log.record(entry(1))));
    assert.equal(log.healthy?.(), false);
    await log.record(entry(2));
    assert.equal(log.healthy?.(), true);
    assert.equal(opened, 2);
    assert.equal(lines.length, 1);
    await log.close();
  });
});
