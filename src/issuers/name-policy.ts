/**
 * What an issuer may certify for a namespace: the names (common name, DNS, IP, URI and email
 * SANs) against the issuer's `allowedDomains`, `allowedIpRanges` and `allowedUriSans`
 * (`{namespace}` templated), the CA flag against `allowCA`, and the usages only a CA needs.
 * Compiled once per issuer, checked by the guard before any request reaches an issuer.
 * Matching splits names into labels / segments and compares them one by one: linear in the
 * name, no regular expression made from config or input. Syntax: src/config/name-patterns.ts.
 */
import { BlockList, isIP } from 'node:net';
import { domainPatternProblem, parseIpRange, uriPatternProblem } from '../config/name-patterns.ts';
import { type CertificateRequestSpec, normalizeIp } from '../pki/index.ts';
import { quotedName } from '../text.ts';

export interface NamePolicyRules {
  readonly allowedDomains: readonly string[];
  readonly allowedUriSans: readonly string[];
  readonly allowedIpRanges: readonly string[];
  /** true / false: local-ca's `allowCA`; undefined: the issuer type makes no CA certificates. */
  readonly allowCA: boolean | undefined;
}

/** Usages that only mean something in a CA certificate (signing certificates, CRLs, OCSP answers). */
export const CA_ONLY_USAGES: readonly string[] = ['cert sign', 'crl sign', 'ocsp signing'];

type Part = { kind: 'literal'; text: string } | { kind: 'one' | 'many' | 'namespace' };

/** One label a `*` of a domain pattern may stand for (a requested wildcard label `*` included). */
const WILDCARD_LABEL = /^(\*|[a-z0-9_]([-a-z0-9_]{0,61}[a-z0-9_])?)$/;
/** One segment a `*` of a URI pattern may stand for: no "%", "?", "#", "@" or dot segments. */
const WILDCARD_SEGMENT = /^[A-Za-z0-9._~:-]+$/;

function compileParts(pattern: string, separator: string): Part[] {
  return pattern.split(separator).map((p): Part => {
    if (p === '*') return { kind: 'one' };
    if (p === '**') return { kind: 'many' };
    if (p === '{namespace}') return { kind: 'namespace' };
    return { kind: 'literal', text: p };
  });
}

/**
 * Whether `pieces` (labels or segments) match `parts`. `many` is first (domains) or last (URIs),
 * so matching is a single aligned comparison: linear in the number of pieces.
 */
function matchParts(
  parts: readonly Part[],
  pieces: readonly string[],
  namespace: string,
  wildcard: (piece: string) => boolean,
): boolean {
  const manyAt = parts.findIndex((p) => p.kind === 'many');
  const fixed = parts.length - (manyAt < 0 ? 0 : 1);
  if (manyAt < 0 ? pieces.length !== fixed : pieces.length <= fixed) return false;
  const extra = pieces.length - fixed; // pieces the `many` stands for
  let i = 0;
  for (const part of parts) {
    if (part.kind === 'many') {
      for (let k = 0; k < extra; k++, i++) if (!wildcard(pieces[i]!)) return false;
      continue;
    }
    const piece = pieces[i++]!;
    const ok =
      part.kind === 'literal'
        ? piece === part.text
        : part.kind === 'namespace'
          ? piece === namespace
          : wildcard(piece);
    if (!ok) return false;
  }
  return true;
}

const isDotSegment = (s: string) => s === '.' || s === '..';

export class NamePolicy {
  readonly #rules: NamePolicyRules;
  readonly #domains: Part[][];
  readonly #uris: Part[][];
  readonly #ips: BlockList;

  constructor(rules: NamePolicyRules) {
    this.#rules = rules;
    for (const p of rules.allowedDomains) {
      const problem = domainPatternProblem(p);
      if (problem) throw new Error(`invalid allowedDomains entry "${p}": ${problem}`);
    }
    for (const p of rules.allowedUriSans) {
      const problem = uriPatternProblem(p);
      if (problem) throw new Error(`invalid allowedUriSans entry "${p}": ${problem}`);
    }
    this.#domains = rules.allowedDomains.map((p) => compileParts(p, '.'));
    this.#uris = rules.allowedUriSans.map((p) => compileParts(p, '/'));
    this.#ips = new BlockList();
    for (const r of rules.allowedIpRanges) {
      const range = parseIpRange(r);
      if (!range) throw new Error(`invalid allowedIpRanges entry "${r}"`);
      this.#ips.addSubnet(range.address, range.prefix, range.family);
    }
  }

  /** Whether `name` (a DNS name, case-insensitive) is inside allowedDomains for `namespace`. */
  domainAllowed(name: string, namespace: string): boolean {
    if (name.length === 0 || name.length > 253) return false;
    const labels = name.toLowerCase().split('.');
    if (labels.some((l) => l === '')) return false;
    return this.#domains.some((parts) => matchParts(parts, labels, namespace, (l) => WILDCARD_LABEL.test(l)));
  }

  uriAllowed(uri: string, namespace: string): boolean {
    const segments = uri.split('/');
    return this.#uris.some((parts) =>
      matchParts(parts, segments, namespace, (s) => WILDCARD_SEGMENT.test(s) && !isDotSegment(s)),
    );
  }

  ipAllowed(ip: string): boolean {
    const version = isIP(ip);
    if (version === 0) return false;
    const normal = normalizeIp(ip);
    // An IPv4-mapped IPv6 address is the IPv4 address to every client that reads it.
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(normal);
    if (mapped) return this.#ips.check(mapped[1]!, 'ipv4');
    return this.#ips.check(normal, version === 4 ? 'ipv4' : 'ipv6');
  }

  emailAllowed(email: string, namespace: string): boolean {
    const at = email.lastIndexOf('@');
    return at > 0 && this.domainAllowed(email.slice(at + 1), namespace);
  }

  /**
   * What `req` asks for beyond the rules, one entry per refused item (names are not secret);
   * empty when everything is allowed.
   */
  violations(req: CertificateRequestSpec, namespace: string): string[] {
    const out: string[] = [];
    const rules = this.#rules;
    const domains = () => `allowedDomains: ${resolved(rules.allowedDomains, namespace)}`;
    const cn = req.commonName;
    if (cn !== undefined) {
      const ok = cn.includes('@')
        ? this.emailAllowed(cn, namespace)
        : isIP(cn) !== 0
          ? this.ipAllowed(cn)
          : this.domainAllowed(cn, namespace);
      if (!ok) out.push(`common name "${quotedName(cn)}" (a host name or email inside ${domains()})`);
    }
    for (const d of req.dnsNames) {
      if (!this.domainAllowed(d, namespace)) out.push(`DNS name "${quotedName(d)}" (${domains()})`);
    }
    for (const e of req.emailAddresses) {
      if (!this.emailAllowed(e, namespace)) out.push(`email address "${quotedName(e)}" (${domains()})`);
    }
    for (const ip of req.ipAddresses) {
      if (!this.ipAllowed(ip)) {
        out.push(`IP address "${quotedName(ip)}" (allowedIpRanges: ${list(rules.allowedIpRanges)})`);
      }
    }
    for (const u of req.uris) {
      if (!this.uriAllowed(u, namespace)) {
        out.push(`URI "${quotedName(u)}" (allowedUriSans: ${resolved(rules.allowedUriSans, namespace)})`);
      }
    }
    const caGranted = req.isCA && rules.allowCA === true;
    if (req.isCA && !caGranted) {
      out.push(
        rules.allowCA === undefined
          ? 'a CA certificate (isCA: true; this issuer type makes none)'
          : 'a CA certificate (isCA: true; allowCA: false)',
      );
    }
    if (!caGranted) {
      for (const u of req.usages) {
        if (CA_ONLY_USAGES.includes(u)) out.push(`usage "${u}" (only for a CA certificate)`);
      }
    }
    return out;
  }
}

function list(items: readonly string[]): string {
  return items.length === 0 ? '(none)' : items.join(', ');
}

function resolved(patterns: readonly string[], namespace: string): string {
  return list(patterns.map((p) => p.replaceAll('{namespace}', namespace)));
}
