// What this replica remembers per VaultCertificate between reconciles: its own last write (the
// informer cache may lag behind it), a certificate issued whose Secret write failed (written
// again, not signed again) and the parsed Secret by resourceVersion. Survives a stale cache, not
// a restart: status is the truth.
import type { V1Secret } from '@kubernetes/client-node';
import type { VaultCertificate, VaultCertificateStatus } from '../../apis/v1alpha1/index.ts';
import type { IssuedCertificate } from '../../issuers/index.ts';
import type { CertificateInfo, PrivateKey } from '../../pki/index.ts';
import type { MacKeyring } from '../../secrets/mac-keyring.ts';
import { type ObservedSecret, observeSecret } from './observed.ts';
import { type RecordedCertificate, recordedCertificate } from './recorded.ts';
import { renewalTime } from './renewal.ts';
import { type DesiredCertificate, desiredCertificate, issuerRef, requestHash } from './spec.ts';

/**
 * A certificate issued whose Secret write failed: kept so the retry writes it again instead of
 * having a second one signed. Valid for the generation and request it was issued for.
 */
export interface Unwritten {
  generation: number | undefined;
  requestHash: string;
  revision: number;
  issued: IssuedCertificate;
  key: PrivateKey;
  cert: CertificateInfo;
}

/** What this replica last wrote per resource: survives a stale informer cache, not a restart. */
export interface Written {
  secretName: string;
  secretResourceVersion: string | undefined;
  mac: string;
  revision: number;
  /** The certificate written (serial and issuer), also recorded in status. */
  serialNumber: string;
  issuer: string;
  status?: VaultCertificateStatus;
}

export class ReplicaMemory {
  readonly written = new Map<string, Written>();
  readonly unwritten = new Map<string, Unwritten>();
  /**
   * The parsed Secret per resource, by the Secret's resourceVersion: reconciles that follow our
   * own writes (and informer resyncs) parse nothing again.
   */
  private readonly parsed = new Map<string, ObservedSecret>();
  private readonly macKeys: MacKeyring;

  constructor(macKeys: MacKeyring) {
    this.macKeys = macKeys;
  }

  /** The Secret parsed, from memory while its resourceVersion is the one parsed last. */
  observe(key: string, secret: V1Secret | undefined): ObservedSecret {
    const rv = secret?.metadata?.resourceVersion;
    const hit = this.parsed.get(key);
    if (hit && rv !== undefined && hit.resourceVersion === rv) return hit;
    const observed = observeSecret(secret, this.macKeys);
    if (rv !== undefined) this.parsed.set(key, observed);
    else this.parsed.delete(key);
    return observed;
  }

  /** What we just applied, as observe would parse it: the reconcile after our write parses nothing. */
  rememberParsed(key: string, observed: ObservedSecret): void {
    this.parsed.set(key, observed);
  }

  /** The cached Secret does not show our own last write to it yet: read it from the apiserver. */
  cacheBehind(key: string, secretName: string, cached: V1Secret | undefined): boolean {
    const record = this.written.get(key);
    return (
      record !== undefined &&
      record.secretName === secretName &&
      cached?.metadata?.resourceVersion !== record.secretResourceVersion
    );
  }

  /**
   * Our last write as far as the Secret still holds it (same name, same material), following
   * the Secret's resourceVersion when only others' fields changed; undefined when it does not.
   */
  stillHeld(key: string, secretName: string, observed: ObservedSecret): Written | undefined {
    const record = this.written.get(key);
    if (!record || observed.mac !== record.mac) return undefined;
    if (observed.resourceVersion !== record.secretResourceVersion)
      record.secretResourceVersion = observed.resourceVersion;
    return record.secretName === secretName ? record : undefined;
  }

  /** The highest revision known: status, the Secret's annotation, or our own last write. */
  revisionSoFar(vc: VaultCertificate, key: string, observed: ObservedSecret): number {
    return Math.max(vc.status?.revision ?? 0, observed.revision ?? 0, this.written.get(key)?.revision ?? 0);
  }

  /** The certificate vaultsync last wrote for `vc` (recorded.ts): what revocation may touch. */
  recorded(vc: VaultCertificate, key: string, observed: ObservedSecret): RecordedCertificate | undefined {
    return recordedCertificate({
      status: vc.status,
      written: this.written.get(key),
      secretName: vc.spec.secretName,
      observed,
      holds: (mac) => observed.macVerdict !== undefined && observed.macVerdict(mac) !== 'mismatch',
      desiredIssuer: issuerRef(desiredCertificate(vc)),
    });
  }

  /** The certificate kept from a failed Secret write, while it still fits the spec and is not due. */
  kept(vc: VaultCertificate, key: string, desired: DesiredCertificate, now: number): Unwritten | undefined {
    const kept = this.unwritten.get(key);
    if (!kept) return undefined;
    const fits =
      kept.generation === vc.metadata?.generation &&
      kept.requestHash === requestHash(desired) &&
      renewalTime(kept.cert, desired.renewBefore).at > now;
    if (!fits) this.unwritten.delete(key);
    return fits ? kept : undefined;
  }

  /** Drops what this replica remembers of a deleted resource. */
  forget(key: string): void {
    this.written.delete(key);
    this.parsed.delete(key);
    this.unwritten.delete(key);
  }
}
