/**
 * Values from Secrets in one source namespace: path = Secret name, data = the Secret's data,
 * version = its resourceVersion (only the current version exists). Writes create the Secret, or
 * merge-patch its data with the read resourceVersion as a precondition (optimistic locking; RBAC
 * `create` and `patch`, never `update`). A find lists the namespace's Secrets by label selector
 * (tags are labels), page by page (`limit`/`continue`), keeping names that start with the prefix
 * and leaving out Secrets the cluster or a tool keeps for itself (tokens, Helm releases). A delete
 * removes the Secret (scope `latest` and `all` alike: there is one version), never a system
 * Secret or one a vaultsync resource owns. Restore: refused, there are no earlier versions.
 */
import {
  MANAGED_BY,
  MANAGED_BY_LABEL,
  VAULTCERTIFICATE_OWNER_LABEL,
  VAULTSECRET_OWNER_LABEL,
} from '../apis/v1alpha1/labels.ts';
import { isSystemSecretType } from '../kube/secret-types.ts';
import { BackendError, checkAndSetFailed } from '../resilience/errors.ts';
import type { KubeSecret, SecretsApi } from './kube-client.ts';
import { Sensitive } from '../secrets/sensitive.ts';
import type {
  BackendAdapter,
  CallContext,
  DeleteRequest,
  ListPage,
  ListRequest,
  ReadRequest,
  RemoteSecret,
  RestoreRequest,
  WriteRequest,
  WriteResult,
} from './types.ts';
import { labelSelector } from './label-selector.ts';

export interface KubernetesBackendOptions {
  readonly name: string;
  /** Namespace holding the source Secrets. */
  readonly namespace: string;
  /** The operator's own namespace (its keys and configuration): refused as `namespace`. */
  readonly operatorNamespace?: string;
  readonly secrets: SecretsApi;
  /** Secrets per list request (default 250); tests make it small to see paging. */
  readonly pageSize?: number;
}

/** Secrets per list request (the apiserver's `limit`) unless the options say. */
const LIST_PAGE_SIZE = 250;

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

export class KubernetesBackend implements BackendAdapter {
  readonly name: string;
  readonly type = 'kubernetes';
  readonly #namespace: string;
  readonly #secrets: SecretsApi;
  readonly #pageSize: number;

  constructor(options: KubernetesBackendOptions) {
    if (options.namespace === options.operatorNamespace) {
      throw new Error(
        `backend "${options.name}" (kubernetes) may not read from the operator's own namespace "${options.namespace}"`,
      );
    }
    this.name = options.name;
    this.#namespace = options.namespace;
    this.#secrets = options.secrets;
    this.#pageSize = options.pageSize ?? LIST_PAGE_SIZE;
  }

  identity(): string {
    return 'operator';
  }

  async read(req: ReadRequest, ctx: CallContext): Promise<RemoteSecret> {
    this.#checkName(req.path);
    const secret = await this.#secrets.get(this.#namespace, req.path, ctx.signal);
    const where = `Secret ${this.#namespace}/${req.path}`;
    if (!secret) throw new BackendError('NotFound', `${where} not found`, { backend: this.name });
    const version = secret.metadata.resourceVersion ?? '';
    if (req.version !== undefined && req.version !== version) {
      throw new BackendError(
        'NotFound',
        `version ${req.version.slice(0, 40)} of ${where} not found: this backend keeps only the current version (${version})`,
        { backend: this.name },
      );
    }
    const data = new Map<string, Buffer>();
    for (const [k, v] of Object.entries(secret.data ?? {})) data.set(k, Buffer.from(v, 'base64'));
    return { data: new Sensitive<ReadonlyMap<string, Buffer>>(data), version };
  }

  async write(req: WriteRequest, ctx: CallContext): Promise<WriteResult> {
    this.#checkName(req.path);
    const where = `Secret ${this.#namespace}/${req.path}`;
    const data: Record<string, string> = {};
    for (const [k, v] of req.data.reveal()) data[k] = Buffer.from(v).toString('base64');
    const existing = await this.#secrets.get(this.#namespace, req.path, ctx.signal);
    if (existing) this.#checkWritable(existing, where);
    const current = existing?.metadata.resourceVersion ?? '0';
    if (req.cas !== undefined && req.cas !== (existing ? current : '0')) {
      throw checkAndSetFailed(where, req.cas, `found ${existing ? current : 'none'}`, this.name);
    }
    let written: KubeSecret;
    if (existing) {
      // Keys the new data leaves out are removed (null in a merge patch); the resourceVersion
      // makes a change since our read a 409, never a lost update.
      const removed = Object.keys(existing.data ?? {}).filter((k) => !(k in data));
      written = await this.#secrets.patchData(
        this.#namespace,
        req.path,
        current,
        { ...Object.fromEntries(removed.map((k) => [k, null])), ...data },
        ctx.signal,
      );
    } else {
      written = await this.#secrets.create(
        this.#namespace,
        { metadata: { name: req.path, labels: { [MANAGED_BY_LABEL]: MANAGED_BY } }, type: 'Opaque', data },
        ctx.signal,
      );
    }
    return { version: written.metadata.resourceVersion ?? '' };
  }

  async list(req: ListRequest, page: string | undefined, ctx: CallContext): Promise<ListPage> {
    const selector = labelSelector(req.tags ?? {}, this.name);
    const answer = await this.#secrets.list(
      this.#namespace,
      {
        limit: this.#pageSize,
        ...(selector === '' ? {} : { labelSelector: selector }),
        ...(page === undefined ? {} : { continue: page }),
      },
      ctx.signal,
    );
    const paths = answer.items
      .filter((s) => s.metadata.name.startsWith(req.prefix) && !isSystemSecretType(s.type))
      .map((s) => s.metadata.name)
      .sort();
    return { paths, ...(answer.continue === undefined ? {} : { next: answer.continue }) };
  }

  /** Deletes the Secret as it was just read (a precondition on its resourceVersion). */
  async delete(req: DeleteRequest, ctx: CallContext): Promise<void> {
    this.#checkName(req.path);
    const where = `Secret ${this.#namespace}/${req.path}`;
    const existing = await this.#secrets.get(this.#namespace, req.path, ctx.signal);
    if (!existing) throw new BackendError('NotFound', `${where} not found`, { backend: this.name });
    this.#checkWritable(existing, where);
    await this.#secrets.delete(
      this.#namespace,
      req.path,
      existing.metadata.resourceVersion ?? '',
      ctx.signal,
    );
  }

  /** A Secret keeps no earlier versions: nothing to go back to. */
  async restore(req: RestoreRequest): Promise<WriteResult> {
    this.#checkName(req.path);
    throw new BackendError(
      'InvalidRequest',
      `backend "${this.name}" (kubernetes) keeps only the current version of Secret ${this.#namespace}/${req.path}: nothing to restore`,
      { backend: this.name },
    );
  }

  async check(signal?: AbortSignal): Promise<void> {
    await this.#secrets.ping(signal);
  }

  async close(): Promise<void> {}

  #checkWritable(secret: KubeSecret, where: string): void {
    const refusal = notWritable(secret);
    if (refusal) {
      throw new BackendError(
        'TenancyDenied',
        `${where} ${refusal}: a kubernetes backend writes only ordinary Secrets that no vaultsync resource owns`,
        { backend: this.name },
      );
    }
  }

  #checkName(path: string): void {
    if (path.length > 253 || !DNS_SUBDOMAIN.test(path)) {
      throw new BackendError(
        'InvalidRequest',
        `path "${path.slice(0, 80)}" is not a Secret name (lower-case letters, digits, "-" and ".")`,
        { backend: this.name },
      );
    }
  }
}

/** Why a kubernetes backend must not write this Secret (a system type, another vaultsync resource's), if so. */
function notWritable(secret: KubeSecret): string | undefined {
  if (isSystemSecretType(secret.type)) return `has type ${secret.type}`;
  for (const label of [VAULTSECRET_OWNER_LABEL, VAULTCERTIFICATE_OWNER_LABEL]) {
    const owner = secret.metadata.labels?.[label];
    if (owner !== undefined) return `belongs to ${label.slice(label.indexOf('/') + 1)} ${owner}`;
  }
  return undefined;
}
