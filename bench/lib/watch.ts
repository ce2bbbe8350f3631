// One watch on a collection of the bed (its admin credentials): every event goes to `onEvent`;
// an error after it was opened is kept, for the waiters' timeout messages. The bench's watches
// (Secrets, Deployments, the Reloader script's) wait at no cost that scales with the resources.
import * as k8s from '@kubernetes/client-node';

export interface OpenWatch {
  stop(): void;
  /** What ended the watch early, if anything did. */
  readonly error: unknown;
}

export async function openWatch<T>(
  kc: k8s.KubeConfig,
  path: string,
  onEvent: (type: string, obj: T) => void,
): Promise<OpenWatch> {
  let stopped = false;
  let error: unknown;
  const abort = await new k8s.Watch(kc).watch(path, {}, onEvent, (err: unknown) => {
    if (err && !stopped) error = err;
  });
  return {
    stop() {
      stopped = true;
      abort.abort();
    },
    get error() {
      return error;
    },
  };
}
