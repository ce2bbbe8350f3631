// How a backend is reached: its URL, and the CA that verifies it (`tls.caFile` read here once).
import { isObject, type Json } from '../json.ts';
import type { ProblemList } from '../problems.ts';
import { type FileReader, fsReason } from '../source.ts';

/** What the rules that read files need besides the problem list. */
export interface RuleContext {
  readonly problems: ProblemList;
  readonly readFile: FileReader;
}

export interface UrlRule {
  /** A good value, quoted in the messages. */
  readonly example: string;
  readonly allowHttp: boolean;
  /** The message for http:// when it is not allowed. */
  readonly httpHint: string;
  /** false: only scheme, host and port. */
  readonly pathAllowed?: boolean;
}

/** A URL field: parseable, https (or http when allowed), no credentials, query or fragment. */
export function checkUrl(value: unknown, pointer: string, o: UrlRule, problems: ProblemList): void {
  if (typeof value !== 'string' || problems.has(pointer)) return;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    problems.add(pointer, `must be a URL such as ${o.example}`);
    return;
  }
  if (url.protocol === 'http:') {
    if (!o.allowHttp) problems.add(pointer, o.httpHint);
  } else if (url.protocol !== 'https:') {
    problems.add(pointer, 'must start with https://');
  }
  if (url.username || url.password) {
    problems.add(pointer, 'must not contain credentials; configure auth instead');
  }
  if (url.search || url.hash) problems.add(pointer, 'must not contain a query (?) or fragment (#)');
  if (o.pathAllowed === false && url.pathname !== '/' && url.pathname !== '') {
    problems.add(pointer, `must not contain a path; e.g. ${o.example}`);
  }
}

/** The entry's `tls` block, when the schema found nothing wrong in it. */
export function checkedTls(item: Json, at: string, problems: ProblemList): Json | undefined {
  return isObject(item.tls) && !problems.has(`${at}/tls`) ? item.tls : undefined;
}

/** `tls.caFile` → `tls.caPem` (read once), with `caFile` and `caPem` mutually exclusive. */
export async function loadCa(tls: Json | undefined, at: string, ctx: RuleContext): Promise<void> {
  const { problems } = ctx;
  if (tls === undefined) {
    // reported by the schema
  } else if (tls.caFile !== undefined && tls.caPem !== undefined) {
    problems.add(at, 'set either caFile or caPem, not both');
  } else if (typeof tls.caPem === 'string' && !isPemCertificate(tls.caPem)) {
    problems.add(`${at}/caPem`, 'must hold PEM certificates (-----BEGIN CERTIFICATE-----)');
  } else if (typeof tls.caFile === 'string') {
    try {
      const pem = (await ctx.readFile(tls.caFile)).toString('utf8');
      if (isPemCertificate(pem)) tls.caPem = pem;
      else
        problems.add(`${at}/caFile`, `${tls.caFile} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`);
    } catch (err) {
      problems.add(`${at}/caFile`, `cannot read ${tls.caFile}: ${fsReason(err)}`);
    }
  }
}

function isPemCertificate(text: string): boolean {
  return /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.test(text);
}
