// Key usages and extended key usages by the names the API uses (cert-manager's names).
import { x509 } from './x509.ts';

const F = x509.KeyUsageFlags;

/** Key usage bits (X.509 KeyUsage). */
export const KEY_USAGE_FLAGS: Readonly<Record<string, number>> = {
  signing: F.digitalSignature,
  'digital signature': F.digitalSignature,
  'content commitment': F.nonRepudiation,
  'key encipherment': F.keyEncipherment,
  'key agreement': F.keyAgreement,
  'data encipherment': F.dataEncipherment,
  'cert sign': F.keyCertSign,
  'crl sign': F.cRLSign,
  'encipher only': F.encipherOnly,
  'decipher only': F.decipherOnly,
};

/** Extended key usage OIDs. */
export const EXTENDED_KEY_USAGES: Readonly<Record<string, string>> = {
  any: '2.5.29.37.0',
  'server auth': '1.3.6.1.5.5.7.3.1',
  'client auth': '1.3.6.1.5.5.7.3.2',
  'code signing': '1.3.6.1.5.5.7.3.3',
  'email protection': '1.3.6.1.5.5.7.3.4',
  's/mime': '1.3.6.1.5.5.7.3.4',
  'ipsec end system': '1.3.6.1.5.5.7.3.5',
  'ipsec tunnel': '1.3.6.1.5.5.7.3.6',
  'ipsec user': '1.3.6.1.5.5.7.3.7',
  timestamping: '1.3.6.1.5.5.7.3.8',
  'ocsp signing': '1.3.6.1.5.5.7.3.9',
  'microsoft sgc': '1.3.6.1.4.1.311.10.3.3',
  'netscape sgc': '2.16.840.1.113730.4.1',
};

export interface SplitUsages {
  /** KeyUsage bits; 0 when none was asked for. */
  keyUsage: number;
  /** Extended key usage OIDs, without duplicates. */
  extended: string[];
}

/** Splits the API's usage names into key usage bits and extended usage OIDs. */
export function splitUsages(usages: readonly string[]): SplitUsages {
  let keyUsage = 0;
  const extended = new Set<string>();
  for (const u of usages) {
    const flag = KEY_USAGE_FLAGS[u];
    if (flag !== undefined) keyUsage |= flag;
    const oid = EXTENDED_KEY_USAGES[u];
    if (oid !== undefined) extended.add(oid);
    if (flag === undefined && oid === undefined) throw new RangeError(`unknown usage "${u}"`);
  }
  return { keyUsage, extended: [...extended] };
}
