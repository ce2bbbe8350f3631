// Everything a VaultSecret reads in one refresh: first the finds (find.ts), then every remote
// secret — named in the spec or found — once each, through the guarded backend (tenancy checked
// per path, shared with other resources' reads within the window the caller names).
import pLimit from 'p-limit';
import type { VaultSecretSpec } from '../../apis/v1alpha1/index.ts';
import type { Backend, CallContext, RemoteSecret } from '../../backends/types.ts';
import { type SourceRef, sourceKey, sourceRefs } from '../shared/source-refs.ts';
import { findAll } from './find.ts';

/** Reads of one resource in flight at once: a find of 1,000 paths does not flood the bucket. */
const READS_AT_ONCE = 16;

export interface Fetched {
  /** What was read, by source key (path, or path@version). */
  readonly fetched: Map<string, RemoteSecret>;
  /** The paths each find entry found, by dataFrom index. */
  readonly found: Map<number, readonly string[]>;
}

export async function fetchSources(
  spec: VaultSecretSpec,
  backend: Backend,
  ctx: CallContext,
): Promise<Fetched> {
  const found = await findAll(spec, backend, ctx);
  const refs = new Map<string, SourceRef>(sourceRefs(spec).map((r) => [sourceKey(r), r]));
  for (const paths of found.values()) for (const path of paths) refs.set(sourceKey({ path }), { path });
  const limit = pLimit(READS_AT_ONCE);
  const read = await Promise.all(
    [...refs].map(([key, ref]) => limit(async () => [key, await backend.read(ref, ctx)] as const)),
  );
  return { fetched: new Map(read), found };
}
