// The rules of `vault` backends and `vault-pki` issuers a schema cannot express.
import { parseDuration } from '../../apis/v1alpha1/duration.ts';
import { isObject, type Json } from '../json.ts';
import type { ProblemList } from '../problems.ts';
import { checkUrl, checkedTls, loadCa, type RuleContext } from './endpoints.ts';

const ADDRESS = {
  example: 'https://vault.vault.svc:8200',
  httpHint: 'must start with https:// (or set tls.insecure: true to allow http://)',
};

/** Each rule runs only when the fields it reads passed the schema. */
export async function checkVault(item: Json, at: string, ctx: RuleContext): Promise<void> {
  const { problems } = ctx;
  const tls = checkedTls(item, at, problems);
  checkUrl(item.address, `${at}/address`, { ...ADDRESS, allowHttp: tls?.insecure === true }, problems);
  await loadCa(tls, `${at}/tls`, ctx);
  const auth = item.auth;
  if (isObject(auth) && !problems.hasAt(`${at}/auth`)) checkAuth(auth, `${at}/auth`, problems);
}

function checkAuth(auth: Json, at: string, problems: ProblemList): void {
  const methods = (['token', 'appRole', 'kubernetes'] as const).filter((m) => auth[m] !== undefined);
  if (methods.length !== 1) {
    const found = methods.length === 0 ? 'none' : methods.join(' and ');
    problems.add(at, `set exactly one of token, appRole or kubernetes (found ${found})`);
  }
  if (isObject(auth.token)) {
    exactlyOne(auth.token, `${at}/token`, ['tokenFile', 'secretRef', 'value'], problems);
  }
  if (isObject(auth.appRole)) {
    exactlyOne(auth.appRole, `${at}/appRole`, ['secretIdFile', 'secretIdRef'], problems);
  }
  const kubernetes = isObject(auth.kubernetes) ? auth.kubernetes : undefined;
  if (typeof kubernetes?.role === 'string' && !problems.has(`${at}/kubernetes/role`)) {
    const leftover = kubernetes.role.replaceAll('{namespace}', '');
    if (/[{}]/.test(leftover)) {
      problems.add(`${at}/kubernetes/role`, 'only the placeholder {namespace} is supported');
    }
  }
  const expiration = kubernetes?.tokenExpiration;
  if (typeof expiration === 'string' && !problems.has(`${at}/kubernetes/tokenExpiration`)) {
    if (parseDuration(expiration) < 600_000) {
      problems.add(`${at}/kubernetes/tokenExpiration`, 'must be at least 10m (the TokenRequest API minimum)');
    }
  }
}

function exactlyOne(obj: Json, at: string, fields: readonly string[], problems: ProblemList): void {
  const set = fields.filter((f) => obj[f] !== undefined);
  if (set.length !== 1) {
    const found = set.length === 0 ? 'none' : set.join(' and ');
    problems.add(at, `set exactly one of ${fields.join(', ')} (found ${found})`);
  }
}
