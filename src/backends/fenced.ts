/**
 * The controllers' view of the backends: reads as they are, writes only while this process
 * leads (the fence is checked right before the call goes to the guarded backend, and its signal
 * cancels a write still waiting or in flight when leadership ends). The HTTPS API, which serves
 * on every replica on behalf of its callers, uses the unfenced registry.
 */
import type { WriteFence } from '../kube/fence.ts';
import type { BackendRegistry } from './registry.ts';
import type { Backend, CallContext } from './types.ts';

/** `ctx` with the fence's signal added to its own. */
export function withFenceSignal<C extends CallContext>(ctx: C, fence: WriteFence): C {
  return { ...ctx, signal: ctx.signal ? AbortSignal.any([ctx.signal, fence.signal]) : fence.signal };
}

/** Restores and deletes change the backend like writes: fenced the same way. Finds are reads. */
export function fencedBackend(backend: Backend, fence: WriteFence): Backend {
  const { find, restore, delete: remove } = backend;
  const fenced =
    <R, A>(fn: (req: R, ctx: CallContext) => Promise<A>) =>
    async (req: R, ctx: CallContext): Promise<A> => {
      fence.assertHeld();
      return fn.call(backend, req, withFenceSignal(ctx, fence));
    };
  return {
    name: backend.name,
    type: backend.type,
    read: (req, ctx) => backend.read(req, ctx),
    write: fenced(backend.write),
    ...(find ? { find: (req, ctx) => find.call(backend, req, ctx) } : {}),
    ...(restore ? { restore: fenced(restore) } : {}),
    ...(remove ? { delete: fenced(remove) } : {}),
    check: (signal) => backend.check(signal),
    // The registry owns the backend: closing is its business, not the view's.
    close: async () => {},
  };
}

export function fencedBackends(registry: BackendRegistry, fence: WriteFence): BackendRegistry {
  const views = new Map<string, Backend>();
  return {
    get(name) {
      const backend = registry.get(name);
      if (!backend) return undefined;
      let view = views.get(name);
      if (!view) views.set(name, (view = fencedBackend(backend, fence)));
      return view;
    },
    names: () => registry.names(),
    checkAll: (signal) => registry.checkAll(signal),
    close: async () => {},
  };
}
