// The rotation's path in its backend: read the latest (or one) version, write one with
// check-and-set. Values stay Sensitive outside the maps the pure functions get.
import { BackendError } from '../../resilience/errors.ts';
import type { RemoteSecret } from '../../backends/types.ts';
import { Sensitive } from '../../secrets/sensitive.ts';
import { type BackendRun, namespaceOf } from './context.ts';

const ctxOf = (run: BackendRun) => ({ namespace: namespaceOf(run.sr), signal: run.ctx.signal });

/** A version of the path (the latest when `version` is left out); undefined when it does not exist. */
export async function readPath(run: BackendRun, version?: string): Promise<RemoteSecret | undefined> {
  try {
    return await run.backend.read(
      { path: run.sr.spec.path, ...(version !== undefined && { version }) },
      ctxOf(run),
    );
  } catch (err) {
    if (err instanceof BackendError && err.code === 'NotFound') return undefined;
    throw err;
  }
}

/** Writes a new version on top of `cas` ('0': the path must not exist); returns the version written. */
export async function writePath(run: BackendRun, data: Map<string, Buffer>, cas: string): Promise<string> {
  const written = await run.backend.write(
    { path: run.sr.spec.path, data: new Sensitive(data), cas },
    ctxOf(run),
  );
  return written.version;
}
