// The rules of the AWS, Google and Azure backends a schema cannot express; each runs only when
// the fields it reads passed the schema.
import { isObject, type Json } from '../json.ts';
import type { ProblemList } from '../problems.ts';
import { portOf } from './addresses.ts';
import { type RuleContext, type UrlRule, checkUrl, checkedTls, loadCa } from './endpoints.ts';

export const CLOUD_TYPES: ReadonlySet<unknown> = new Set([
  'aws-secrets-manager',
  'gcp-secret-manager',
  'azure-key-vault',
]);

const AWS_ENDPOINT = {
  example: 'https://secretsmanager.eu-west-1.amazonaws.com',
  httpHint: 'must start with https:// (or set tls.insecure: true to allow http:// to an emulator)',
  pathAllowed: false,
};

const AZURE_VAULT_URL: UrlRule = {
  example: 'https://my-vault.vault.azure.net',
  allowHttp: false,
  httpHint: 'must start with https:// (Key Vault clients send tokens only over TLS)',
  pathAllowed: false,
};

export async function checkCloud(item: Json, at: string, ctx: RuleContext): Promise<void> {
  const { problems } = ctx;
  const tls = checkedTls(item, at, problems);
  if (item.type === 'aws-secrets-manager') {
    if (item.endpoint !== undefined) {
      const rule = { ...AWS_ENDPOINT, allowHttp: tls?.insecure === true };
      checkUrl(item.endpoint, `${at}/endpoint`, rule, problems);
    } else if (tls?.insecure === true) {
      problems.add(`${at}/tls/insecure`, 'is only allowed with an endpoint (an emulator)');
    }
    await loadCa(tls, `${at}/tls`, ctx);
  }
  if (item.type === 'gcp-secret-manager') {
    if (tls?.insecure === true && item.endpoint === undefined) {
      problems.add(`${at}/tls/insecure`, 'is only allowed with an endpoint (an emulator)');
    }
    if (typeof item.endpoint === 'string' && !problems.has(`${at}/endpoint`)) {
      const port = portOf(item.endpoint);
      if (port < 1 || port > 65535) problems.add(`${at}/endpoint`, 'port must be between 1 and 65535');
    }
  }
  if (item.type === 'azure-key-vault') await checkAzure(item, at, tls, ctx);
}

async function checkAzure(item: Json, at: string, tls: Json | undefined, ctx: RuleContext): Promise<void> {
  checkUrl(item.vaultUrl, `${at}/vaultUrl`, AZURE_VAULT_URL, ctx.problems);
  await loadCa(tls, `${at}/tls`, ctx);
  const auth = item.auth;
  if (isObject(auth) && !ctx.problems.hasAt(`${at}/auth`)) checkAzureAuth(auth, `${at}/auth`, ctx.problems);
}

function checkAzureAuth(auth: Json, at: string, problems: ProblemList): void {
  const methods = (['workloadIdentity', 'managedIdentity', 'clientSecret', 'emulator'] as const).filter(
    (m) => auth[m] !== undefined,
  );
  if (methods.length > 1) {
    problems.add(
      at,
      `set at most one of workloadIdentity, managedIdentity, clientSecret or emulator (found ${methods.join(' and ')})`,
    );
  }
}
