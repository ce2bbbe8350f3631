// A loopback TCP proxy that breaks the network on demand, for fault tests: it listens on
// 127.0.0.1:<free port> and forwards every connection to a target, in one of these modes,
// switched while it runs:
//   pass       forward as is;
//   latency    every chunk, both ways, is delivered `ms` later (order kept);
//   reset      every open connection is reset (TCP RST), and so is every new one;
//   blackhole  connections are accepted but nothing moves either way: bytes are held (as TCP
//              would keep retransmitting through a partition) and delivered once the fault ends,
//              new connections reach the target only then; a client that gives up meanwhile
//              closes its side as it would on a real partition.
// It counts connections, resets and bytes, so a test can say what was attempted during a fault,
// and, for a plain-HTTP target (`httpRequests`), the requests clients sent — counted as they
// reach the proxy, so a request sent into a black hole counts. Bytes pass through untouched:
// TLS is end to end between client and target.
import { type Server, type Socket, connect, createServer } from 'node:net';

export type FaultMode =
  { kind: 'pass' } | { kind: 'latency'; ms: number } | { kind: 'reset' } | { kind: 'blackhole' };

export interface ProxyStats {
  /** Connections accepted from clients. */
  connections: number;
  /** Connections reset by the proxy (reset mode). */
  resets: number;
  /** Bytes received from clients (sent on to the target unless reset). */
  bytesUp: number;
  /** Bytes received from the target. */
  bytesDown: number;
  /** Connections open now. */
  open: number;
  /** HTTP/1.1 request lines seen from clients (plain-HTTP targets; 0 when not counted). */
  httpRequests: number;
}

/** A request line at the start of a chunk or after a CRLF (bodies of JSON do not hold one). */
const REQUEST_LINE = /(?:^|\r\n)(?:GET|HEAD|POST|PUT|PATCH|DELETE|LIST|OPTIONS) \/\S* HTTP\/1\.[01]\r\n/g;

/** One direction of a connection: chunks in order, each due at its arrival plus the latency. */
class Lane {
  private readonly queue: { chunk: Buffer; due: number }[] = [];
  private timer: NodeJS.Timeout | undefined;
  private ended = false;
  private readonly proxy: FaultProxy;
  private readonly out: () => Socket | undefined;

  constructor(proxy: FaultProxy, out: () => Socket | undefined) {
    this.proxy = proxy;
    this.out = out;
  }

  push(chunk: Buffer): void {
    this.queue.push({ chunk, due: Date.now() + this.proxy.latencyMs() });
    this.pump();
  }

  /** The source ended: end the other side once everything queued is delivered. */
  end(): void {
    this.ended = true;
    this.pump();
  }

  pump(): void {
    if (this.timer || this.proxy.holding()) return;
    const out = this.out();
    if (!out || out.destroyed) return;
    while (this.queue.length > 0) {
      const wait = this.queue[0]!.due - Date.now();
      if (wait > 0) {
        this.timer = setTimeout(() => {
          this.timer = undefined;
          this.pump();
        }, wait);
        return;
      }
      out.write(this.queue.shift()!.chunk);
    }
    if (this.ended) out.end();
  }

  clear(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.queue.length = 0;
  }
}

class Link {
  upstream: Socket | undefined;
  readonly up: Lane;
  readonly down: Lane;
  readonly client: Socket;
  private readonly proxy: FaultProxy;

  constructor(proxy: FaultProxy, client: Socket) {
    this.proxy = proxy;
    this.client = client;
    this.up = new Lane(proxy, () => this.upstream);
    this.down = new Lane(proxy, () => this.client);
    client.on('data', (chunk: Buffer) => {
      proxy.counted.bytesUp += chunk.length;
      if (proxy.countsHttp)
        proxy.counted.httpRequests += chunk.toString('latin1').match(REQUEST_LINE)?.length ?? 0;
      this.up.push(chunk);
    });
    client.on('end', () => this.up.end());
    client.on('error', () => this.destroy());
    client.on('close', () => this.destroy());
    if (!proxy.holding()) this.open();
  }

  /** Connects to the target (at once, or when a black hole ends). */
  open(): void {
    if (this.upstream || this.client.destroyed) return;
    const upstream = connect(this.proxy.target.port, this.proxy.target.host);
    this.upstream = upstream;
    upstream.on('data', (chunk: Buffer) => {
      this.proxy.counted.bytesDown += chunk.length;
      this.down.push(chunk);
    });
    upstream.on('end', () => this.down.end());
    upstream.on('error', () => this.destroy());
    upstream.on('close', () => this.destroy());
    this.up.pump();
  }

  resume(): void {
    this.open();
    this.up.pump();
    this.down.pump();
  }

  reset(): void {
    this.up.clear();
    this.down.clear();
    if (!this.client.destroyed) this.client.resetAndDestroy();
    if (this.upstream && !this.upstream.destroyed) this.upstream.resetAndDestroy();
    this.proxy.forget(this);
  }

  destroy(): void {
    this.up.clear();
    this.down.clear();
    this.client.destroy();
    this.upstream?.destroy();
    this.proxy.forget(this);
  }
}

export class FaultProxy {
  readonly target: { host: string; port: number };
  readonly counted: Omit<ProxyStats, 'open'> = {
    connections: 0,
    resets: 0,
    bytesUp: 0,
    bytesDown: 0,
    httpRequests: 0,
  };
  /** Count HTTP request lines (the target speaks plain HTTP/1.1). */
  readonly countsHttp: boolean;
  private readonly server: Server;
  private readonly links = new Set<Link>();
  private current: FaultMode = { kind: 'pass' };

  private constructor(target: { host: string; port: number }, countsHttp: boolean) {
    this.target = target;
    this.countsHttp = countsHttp;
    this.server = createServer((client) => {
      this.counted.connections++;
      if (this.current.kind === 'reset') {
        this.counted.resets++;
        client.resetAndDestroy();
        return;
      }
      this.links.add(new Link(this, client));
    });
  }

  /** Starts a proxy to `target` (`host:port`, or a URL whose host and port are used). */
  static async start(target: string | URL, opts: { httpRequests?: boolean } = {}): Promise<FaultProxy> {
    const url =
      typeof target === 'string' && !target.includes('://') ? new URL(`tcp://${target}`) : new URL(target);
    const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
    const proxy = new FaultProxy(
      { host: url.hostname.replace(/^\[|\]$/g, ''), port },
      opts.httpRequests ?? false,
    );
    await new Promise<void>((resolve) => proxy.server.listen(0, '127.0.0.1', resolve));
    return proxy;
  }

  /** The port it listens on (127.0.0.1). */
  get port(): number {
    return (this.server.address() as { port: number }).port;
  }

  /** `target` with the host and port replaced by the proxy's (scheme and path kept). */
  url(target: string | URL): string {
    const u = new URL(target);
    u.hostname = '127.0.0.1';
    u.port = String(this.port);
    return u.toString().replace(/\/$/, '');
  }

  mode(): FaultMode {
    return this.current;
  }

  /** Switches the mode; `reset` resets every open connection now, leaving `blackhole` delivers what was held. */
  set(mode: FaultMode): void {
    const wasHolding = this.holding();
    this.current = mode;
    if (mode.kind === 'reset') {
      for (const link of [...this.links]) {
        this.counted.resets++;
        link.reset();
      }
    }
    if (wasHolding && !this.holding()) for (const link of [...this.links]) link.resume();
  }

  stats(): ProxyStats {
    return { ...this.counted, open: this.links.size };
  }

  latencyMs(): number {
    return this.current.kind === 'latency' ? this.current.ms : 0;
  }

  holding(): boolean {
    return this.current.kind === 'blackhole';
  }

  forget(link: Link): void {
    this.links.delete(link);
  }

  async close(): Promise<void> {
    for (const link of [...this.links]) link.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** What changed between two snapshots (open: the later one's). */
export function statsSince(before: ProxyStats, after: ProxyStats): ProxyStats {
  return {
    connections: after.connections - before.connections,
    resets: after.resets - before.resets,
    bytesUp: after.bytesUp - before.bytesUp,
    bytesDown: after.bytesDown - before.bytesDown,
    open: after.open,
    httpRequests: after.httpRequests - before.httpRequests,
  };
}
