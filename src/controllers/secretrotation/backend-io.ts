// The rotation's path in its backend: read the latest (or one) version, write one with
// check-and-set, restore an earlier one as the newest. Values stay Sensitive outside the maps the pure functions get.
import { BackendError } from '../../resilience/errors.ts';
import type { RemoteSecret, RestoreRequest } from '../../backends/types.ts';
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

/** Makes an earlier version the newest, by check-and-set on `cas`; returns the version now current. */
export async function restorePath(run: BackendRun, req: Omit<RestoreRequest, 'path'>): Promise<string> {
  const { backend } = run;
  if (!backend.restore) {
    throw new BackendError(
      'InvalidRequest',
      `backend "${backend.name}" (${backend.type}) cannot restore versions`,
    );
  }
  const restored = await backend.restore({ path: run.sr.spec.path, ...req }, ctxOf(run));
  return restored.version;
}
