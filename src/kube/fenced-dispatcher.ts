// The fence's last check, at the socket: undici calls a handler's onRequestStart synchronously
// right before it writes the request. A check in the REST client alone leaves the connect, TLS
// handshake and queueing in between; a process frozen there (SIGSTOP, a paused VM) would send
// its write on resume, before its own timers could close the fence. Here the only gap left is
// the synchronous write itself — provided the request goes over HTTP/1.1 (http1-pool.ts; over
// HTTP/2 the session writes on a later turn) with a string or Buffer body (rest.ts; fetch
// streams the body, also a turn or more later).
import type { Dispatcher } from 'undici';
import type { WriteFence } from './fence.ts';

/** A view of `dispatcher` whose requests are aborted unless `fence` holds as they are written. */
export function fencedDispatcher(dispatcher: Dispatcher, fence: WriteFence): Dispatcher {
  return dispatcher.compose(
    (dispatch) => (opts, handler) =>
      dispatch(
        opts,
        new Proxy(handler, {
          get(target, key, receiver) {
            if (key !== 'onRequestStart') return Reflect.get(target, key, receiver);
            return (controller: Dispatcher.DispatchController, context: unknown) => {
              target.onRequestStart?.(controller, context);
              try {
                fence.assertHeld();
              } catch (err) {
                controller.abort(err as Error);
              }
            };
          },
        }),
      ),
  );
}
