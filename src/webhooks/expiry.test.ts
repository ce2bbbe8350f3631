import assert from 'node:assert/strict';
import type { VaultCertificate } from '../apis/v1alpha1/index.ts';
import { FakeClock } from '../kube/fake-clock.ts';
import type { LifecycleEventInput } from './event.ts';
import { CertificateExpiryWatch, type CertificateSource } from './expiry.ts';

const HOUR = 3_600_000;
const start = Date.UTC(2030, 0, 1);

function cert(name: string, notAfter: number, serial = `${name}01`): VaultCertificate {
  return {
    apiVersion: 'vaultsync.io/v1alpha1',
    kind: 'VaultCertificate',
    metadata: { name, namespace: 'shop', uid: `uid-${name}` },
    spec: { issuer: { backend: 'local-ca' }, secretName: `${name}-tls` },
    status: { notAfter: new Date(notAfter).toISOString(), serialNumber: serial, revision: 1 },
  } as VaultCertificate;
}

type Handlers = {
  add?(o: VaultCertificate): unknown;
  update?(o: VaultCertificate, n: VaultCertificate): unknown;
};

/** An informer stand-in: a map, with update handlers called on `set`. */
class Source implements CertificateSource {
  readonly items = new Map<string, VaultCertificate>();
  #handlers: Handlers[] = [];
  list() {
    return this.items.values();
  }
  addHandlers(h: Handlers) {
    this.#handlers.push(h);
    return () => {
      this.#handlers = this.#handlers.filter((x) => x !== h);
    };
  }
  set(vc: VaultCertificate) {
    const old = this.items.get(vc.metadata.name!);
    this.items.set(vc.metadata.name!, vc);
    for (const h of this.#handlers) {
      if (old) h.update?.(old, vc);
      else h.add?.(vc);
    }
  }
}

function setup(withinMs = 24 * HOUR) {
  const clock = new FakeClock(start);
  const source = new Source();
  const events: (LifecycleEventInput & { at: number })[] = [];
  const watch = new CertificateExpiryWatch({
    source,
    withinMs,
    clock,
    notify: (e) => events.push({ ...e, at: clock.now() }),
  });
  return { clock, source, events, watch };
}

describe('webhook certificate_expiring', () => {
  it('fires once when a certificate enters the window, at that time, with its details', () => {
    const { clock, source, events, watch } = setup();
    source.set(cert('web', start + 72 * HOUR));
    source.set(cert('api', start + 200 * HOUR));
    watch.start();
    clock.advance(0);
    assert.equal(events.length, 0);
    clock.advance(48 * HOUR - 1);
    assert.equal(events.length, 0);
    clock.advance(1);
    assert.equal(events.length, 1);
    const e = events[0]!;
    assert.equal(e.at, start + 48 * HOUR, 'woken exactly when it fell due, not by polling');
    assert.equal(e.type, 'certificate_expiring');
    assert.equal(e.reason, 'Expiring');
    assert.equal(
      e.message,
      'Certificate web01 in Secret web-tls expires at 2030-01-04T00:00:00.000Z (in 24h)',
    );
    assert.deepEqual(e.details, {
      secretName: 'web-tls',
      serialNumber: 'web01',
      notAfter: '2030-01-04T00:00:00.000Z',
      revision: 1,
    });
    assert.deepEqual(e.resource, {
      apiVersion: 'vaultsync.io/v1alpha1',
      kind: 'VaultCertificate',
      namespace: 'shop',
      name: 'web',
      uid: 'uid-web',
    });
    clock.advance(300 * HOUR);
    assert.equal(events[1]?.at, start + 176 * HOUR);
    assert.deepEqual(
      events.map((x) => x.resource.name),
      ['web', 'api'],
      'each once, no repeats',
    );
    watch.stop();
  });

  it('fires again for a new notAfter (a renewal that is late again), not for the same one', () => {
    const { clock, source, events, watch } = setup();
    source.set(cert('web', start + 12 * HOUR));
    watch.start();
    clock.advance(1000);
    assert.equal(events.length, 1, 'already inside the window: at once');
    source.set(cert('web', start + 12 * HOUR)); // same notAfter, e.g. a metadata change
    clock.advance(2000);
    assert.equal(events.length, 1);
    source.set(cert('web', start + 30 * HOUR, 'web02')); // renewed
    clock.advance(2000);
    assert.equal(events.length, 1, 'the new certificate is not yet in the window');
    clock.advance(6 * HOUR);
    assert.equal(events.length, 2);
    assert.equal(events[1]!.details?.serialNumber, 'web02');
    assert.notEqual(events[1]!.id, events[0]!.id);
    watch.stop();
  });

  it('wakes on an informer change that brings a certificate into the window', () => {
    const { clock, source, events, watch } = setup();
    source.set(cert('web', start + 100 * HOUR));
    watch.start();
    clock.advance(1000);
    source.set(cert('web', start + 2 * HOUR, 'short'));
    clock.advance(1000);
    assert.equal(events.length, 1, 'within the settle delay, not at the next periodic scan');
  });

  it('reports an expired certificate as Expired', () => {
    const { clock, source, events, watch } = setup();
    source.set(cert('old', start - HOUR));
    watch.start();
    clock.advance(0);
    assert.equal(events[0]?.reason, 'Expired');
    assert.match(events[0]!.message, /expired at 2029-12-31T23:00:00.000Z/);
  });

  it('gives the same id for the same certificate and notAfter (a restarted operator)', () => {
    const a = setup();
    const b = setup();
    for (const s of [a, b]) {
      s.source.set(cert('web', start + HOUR));
      s.watch.start();
      s.clock.advance(0);
    }
    assert.equal(a.events.length, 1);
    assert.equal(a.events[0]!.id, b.events[0]!.id);
    assert.match(a.events[0]!.id!, /^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it('forgets deleted certificates, and stops', () => {
    const { clock, source, events, watch } = setup();
    source.set(cert('web', start + HOUR));
    watch.start();
    clock.advance(0);
    source.items.delete('web');
    clock.advance(11 * 60_000); // a periodic scan prunes it
    source.set(cert('web', start + HOUR)); // created again with the same uid and notAfter
    clock.advance(2000);
    assert.equal(events.length, 2);
    watch.stop();
    source.set(cert('web', start + 2 * HOUR));
    clock.advance(100 * HOUR);
    assert.equal(events.length, 2);
    assert.equal(clock.pendingTimers(), 0);
  });
});
