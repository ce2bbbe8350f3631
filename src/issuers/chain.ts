// Splits what a CA returns (the leaf's issuer and the chain above it) into the intermediates
// that belong in tls.crt and the trust anchor for ca.crt. Pure.
import { LRUCache } from 'lru-cache';
import { certificateInfo, splitPemCertificates } from '../pki/index.ts';

export interface SplitChain {
  chainPem: string[];
  caPem: string;
}

/**
 * `caCertificates`: PEM blocks in any grouping (Vault's ca_chain, or issuing_ca). Duplicates
 * and the leaf itself are dropped; the first self-issued certificate is the root (ca.crt),
 * the others are intermediates in the order given. With no root, the last one is ca.crt.
 */
export function splitChain(leafPem: string, caCertificates: readonly string[]): SplitChain {
  const seen = new Set<string>([normalize(leafPem)]);
  const certs: { pem: string; selfIssued: boolean }[] = [];
  for (const block of caCertificates.flatMap(splitPemCertificates)) {
    const key = normalize(block);
    if (seen.has(key)) continue;
    seen.add(key);
    certs.push({ pem: block, selfIssued: selfIssued(block, key) });
  }
  if (certs.length === 0) throw new Error('the CA returned no issuing certificate');
  const root = certs.find((c) => c.selfIssued) ?? certs[certs.length - 1]!;
  return { chainPem: certs.filter((c) => c !== root).map((c) => c.pem), caPem: root.pem };
}

// The same few CA certificates come back with every issuance: parse each once.
const selfIssuedCache = new LRUCache<string, boolean>({ max: 64 });
function selfIssued(pem: string, key: string): boolean {
  let value = selfIssuedCache.get(key);
  if (value === undefined) {
    value = certificateInfo(pem).selfIssued;
    selfIssuedCache.set(key, value);
  }
  return value;
}

function normalize(pem: string): string {
  return pem.replace(/\s+/g, '');
}
