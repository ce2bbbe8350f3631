// The rules of the AWS, Google and Azure backends a schema cannot express; each runs only when
// the fields it reads passed the schema.
import { isObject, type Json } from '../json.ts';
import type { ProblemList } from '../problems.ts';
import { portOf } from './addresses.ts';
import { checkUrl, loadCa, type RuleContext } from './endpoints.ts';

export const CLOUD_TYPES: ReadonlySet<unknown> = new Set([
  'aws-secrets-manager',
  'gcp-secret-manager',
  'azure-key-vault',
]);

export async function checkCloud(item: Json, at: string, ctx: RuleContext): Promise<void> {
  const { problems } = ctx;
  const tls = isObject(item.tls) && !problems.has(`${at}/tls`) ? item.tls : undefined;
  if (item.type === 'aws-secrets-manager') {
    if (item.endpoint !== undefined) {
      checkUrl(
        item.endpoint,
        `${at}/endpoint`,
        {
          example: 'https://secretsmanager.eu-west-1.amazonaws.com',
          allowHttp: tls?.insecure === true,
          httpHint: 'must start with https:// (or set tls.insecure: true to allow http:// to an emulator)',
          pathAllowed: false,
        },
        problems,
      );
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
  checkUrl(
    item.vaultUrl,
    `${at}/vaultUrl`,
    {
      example: 'https://my-vault.vault.azure.net',
      allowHttp: false,
      httpHint: 'must start with https:// (Key Vault clients send tokens only over TLS)',
      pathAllowed: false,
    },
    ctx.problems,
  );
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
