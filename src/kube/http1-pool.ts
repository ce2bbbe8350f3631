// The connection pool the REST client talks to the apiserver through: HTTP/1.1 only.
//
// undici negotiates HTTP/2 by default, and the apiserver accepts it. Over HTTP/2 a request is
// handed to the session and written on a later turn of the event loop (Node schedules the
// session's writes), so a process frozen in between (SIGSTOP, a paused VM) sends it on resume,
// after the leadership fence's last check said yes. Over HTTP/1.1 a request with a string
// body is written to the socket in the same synchronous step as that check
// (fenced-dispatcher.ts). Watches do not come through here.
import type { AgentOptions, RequestOptions } from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';
import { Agent, type Dispatcher } from 'undici';

/**
 * An HTTP/1.1 pool with the TLS identity of `kc`'s current cluster and user; `fallback` (what
 * client-node built) where it goes through a proxy or speaks plain HTTP (no HTTP/2 there
 * without TLS; through a proxy the freeze gap above stays open).
 */
export async function http1Pool(kc: KubeConfig, fallback: () => Dispatcher): Promise<Dispatcher> {
  const tls: RequestOptions & AgentOptions = {};
  await kc.applyToHTTPSOptions(tls);
  const options = kc.createDispatcherOptions(kc.getCurrentCluster(), tls);
  return options.type === 'agent' ? new Agent({ connect: options.connect, allowH2: false }) : fallback();
}
