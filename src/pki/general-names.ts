// Subject alternative names as @peculiar/x509 decodes them (typed GeneralName items), sorted
// into the four kinds vaultsync requests and checks. Certificates and CSRs both go through it.
import type { x509 } from './x509.ts';

export interface AltNames {
  dnsNames: string[];
  ipAddresses: string[];
  uris: string[];
  emailAddresses: string[];
  /** Names of other kinds, as `type:value` (directory names, UPNs, registered IDs ...). */
  otherNames: string[];
}

/** Sorts decoded names by kind, keeping their order and their values exactly as encoded. */
export function sortAltNames(items: readonly x509.GeneralName[]): AltNames {
  const out: AltNames = { dnsNames: [], ipAddresses: [], uris: [], emailAddresses: [], otherNames: [] };
  for (const n of items) {
    if (n.type === 'dns') out.dnsNames.push(n.value);
    else if (n.type === 'ip') out.ipAddresses.push(n.value);
    else if (n.type === 'url') out.uris.push(n.value);
    else if (n.type === 'email') out.emailAddresses.push(n.value);
    else out.otherNames.push(`${n.type}:${n.value}`);
  }
  return out;
}
