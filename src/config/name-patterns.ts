/**
 * Syntax of the name patterns of certificate issuers (`allowedDomains`, `allowedUriSans`,
 * `allowedIpRanges`); shared by config validation and the issuance policy
 * (src/issuers/name-policy.ts). No regular expression is ever built from a pattern: patterns
 * are split into labels or segments and compared one by one.
 *
 * Domains, labels split by ".": `*` is exactly one label, `**` (only as the first label) one or
 * more labels, `{namespace}` exactly the requesting namespace; any other label is literal.
 * URIs, segments split by "/": `*` is exactly one segment, `**` (only as the last segment) one
 * or more, `{namespace}` the namespace; any other segment is literal.
 */
import { isIP } from 'node:net';

const LITERAL_LABEL = /^[a-z0-9_]([-a-z0-9_]*[a-z0-9_])?$/;
const LITERAL_SEGMENT = /^[A-Za-z0-9._~:-]*$/;
const SCHEME = /^[a-z][a-z0-9+.-]*:$/;

/** Why `pattern` is not a valid `allowedDomains` entry, or undefined when it is. */
export function domainPatternProblem(pattern: string): string | undefined {
  if (pattern.length === 0 || pattern.length > 253) return 'must be 1 to 253 characters';
  const labels = pattern.split('.');
  for (const [i, label] of labels.entries()) {
    if (label === '') return 'must not contain empty labels (a leading, trailing or doubled ".")';
    if (label === '*' || label === '{namespace}') continue;
    if (label === '**') {
      if (i !== 0) return '"**" may only be the first label, e.g. "**.{namespace}.svc"';
      continue;
    }
    if (label.includes('{') || label.includes('}')) {
      return '"{namespace}" must be a whole label, e.g. "*.{namespace}.svc" (not "{namespace}-x")';
    }
    if (label.includes('*')) return '"*" must be a whole label, e.g. "*.{namespace}.svc" (not "web-*")';
    if (label.length > 63 || !LITERAL_LABEL.test(label)) {
      return `label "${label}" is not a lower-case DNS label (letters, digits, "-", "_")`;
    }
  }
  return undefined;
}

/** Why `pattern` is not a valid `allowedUriSans` entry, or undefined when it is. */
export function uriPatternProblem(pattern: string): string | undefined {
  if (pattern.length > 512) return 'must be at most 512 characters';
  const segments = pattern.split('/');
  // "scheme:", "", authority, path segments...
  if (segments.length < 3 || !SCHEME.test(segments[0]!) || segments[1] !== '' || segments[2] === '') {
    return 'must be an absolute URI pattern with an authority, e.g. "spiffe://cluster.local/ns/{namespace}/**"';
  }
  for (const [i, segment] of segments.entries()) {
    if (i < 2) continue;
    if (segment === '*' || segment === '{namespace}') continue;
    if (segment === '**') {
      if (i !== segments.length - 1) return '"**" may only be the last segment, e.g. ".../ns/{namespace}/**"';
      continue;
    }
    if (segment.includes('{') || segment.includes('}')) {
      return '"{namespace}" must be a whole segment, e.g. ".../ns/{namespace}/*" (not "{namespace}-x")';
    }
    if (segment.includes('*')) return '"*" must be a whole segment, e.g. ".../sa/*"';
    if (segment === '' && i !== segments.length - 1) return 'must not contain empty segments ("//")';
    if (segment === '.' || segment === '..') return 'must not contain "." or ".." segments';
    if (!LITERAL_SEGMENT.test(segment)) {
      return `segment "${segment}" may contain only letters, digits and "._~:-"`;
    }
  }
  return undefined;
}

export interface IpRange {
  readonly address: string;
  readonly prefix: number;
  readonly family: 'ipv4' | 'ipv6';
}

/** An `allowedIpRanges` entry: a CIDR such as 10.0.0.0/8, or one address (/32, /128). */
export function parseIpRange(range: string): IpRange | undefined {
  const slash = range.indexOf('/');
  const address = slash < 0 ? range : range.slice(0, slash);
  const version = isIP(address);
  if (version === 0 || address.includes('%')) return undefined;
  const max = version === 4 ? 32 : 128;
  const prefixText = slash < 0 ? String(max) : range.slice(slash + 1);
  if (!/^[0-9]{1,3}$/.test(prefixText)) return undefined;
  const prefix = Number(prefixText);
  if (prefix > max) return undefined;
  return { address, prefix, family: version === 4 ? 'ipv4' : 'ipv6' };
}

/** Why `range` is not a valid `allowedIpRanges` entry, or undefined when it is. */
export function ipRangeProblem(range: string): string | undefined {
  return parseIpRange(range)
    ? undefined
    : 'must be a CIDR such as "10.0.0.0/8" or "fd00::/8", or one address such as "127.0.0.1"';
}
