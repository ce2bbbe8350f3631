// The HTTP POST of one delivery attempt, on node:http / node:https with a keep-alive agent
// (an extra CA is trusted besides the system roots when configured). Injected into the
// dispatcher, so unit tests replace it with a function.
import http from 'node:http';
import https from 'node:https';
import { rootCertificates } from 'node:tls';

export interface DeliveryRequest {
  url: string;
  headers: Readonly<Record<string, string>>;
  body: string;
  /** Aborts the attempt (timeout or shutdown); the promise then rejects. */
  signal: AbortSignal;
}

export interface DeliveryResponse {
  status: number;
  /** The `Retry-After` header, if any. */
  retryAfter?: string;
}

/** Sends one attempt; resolves with the response status once the headers arrived, rejects on a transport error. */
export type Transport = (req: DeliveryRequest) => Promise<DeliveryResponse>;

export interface HttpTransport {
  send: Transport;
  /** Closes idle keep-alive connections. */
  close(): void;
}

/** Response bodies are not used; at most this much is read before the connection is dropped. */
const MAX_RESPONSE_BYTES = 64 * 1024;
/** Longest the (ignored) response body may take after the headers. */
const BODY_DRAIN_MS = 10_000;

export function httpTransport(opts: { caPem?: string } = {}): HttpTransport {
  const agentOptions = { keepAlive: true, maxSockets: 4 };
  const httpAgent = new http.Agent(agentOptions);
  const httpsAgent = new https.Agent({
    ...agentOptions,
    ...(opts.caPem ? { ca: [...rootCertificates, opts.caPem] } : {}),
  });

  const send: Transport = (req) =>
    new Promise<DeliveryResponse>((resolve, reject) => {
      const url = new URL(req.url);
      const secure = url.protocol === 'https:';
      const body = Buffer.from(req.body, 'utf8');
      const request = (secure ? https : http).request(url, {
        method: 'POST',
        agent: secure ? httpsAgent : httpAgent,
        headers: { ...req.headers, 'Content-Length': String(body.length) },
        signal: req.signal,
      });
      request.on('error', reject);
      request.on('response', (res) => {
        const retryAfter = res.headers['retry-after'];
        resolve({ status: res.statusCode ?? 0, ...(retryAfter !== undefined && { retryAfter }) });
        // Read (and forget) the body so the connection can be reused; a huge or endless one is cut off.
        const stall = setTimeout(() => res.destroy(), BODY_DRAIN_MS);
        stall.unref();
        res.on('close', () => clearTimeout(stall));
        let seen = 0;
        res.on('data', (chunk: Buffer) => {
          seen += chunk.length;
          if (seen > MAX_RESPONSE_BYTES) res.destroy();
        });
        res.on('error', () => undefined);
      });
      request.end(body);
    });

  return {
    send,
    close() {
      httpAgent.destroy();
      httpsAgent.destroy();
    },
  };
}

/** A transport error as a short label-safe code: ECONNREFUSED, ETIMEDOUT, CERT_HAS_EXPIRED, ... */
export function errorCode(err: unknown): string {
  const code = (err as { code?: unknown } | undefined)?.code;
  if (typeof code === 'string' && /^[A-Z0-9_]{1,64}$/.test(code)) return code;
  const name = (err as { name?: unknown } | undefined)?.name;
  return typeof name === 'string' && /^[A-Za-z]{1,64}$/.test(name) ? name : 'Error';
}
