/**
 * The HTTP transport node-vault is given (its `request-promise` hook): the abort signal reaches
 * the socket, a 429's Retry-After is read, TLS uses exactly the configured CA, the body is
 * capped, and no error object holding the token header is ever created.
 */
import http from 'node:http';
import https from 'node:https';
import { BackendError } from '../../resilience/errors.ts';
import { mapNetworkErrorCode, parseRetryAfter } from '../errors.ts';
import type { VaultApiOptions } from './api.ts';

interface TransportRequest {
  method: string;
  uri: string;
  headers?: Record<string, string>;
  json?: unknown;
  signal?: AbortSignal;
}

interface TransportResponse {
  statusCode: number;
  body: unknown;
  request: { path: string };
}

/** One HTTP request; resolves with any status except 429 (→ Throttled), rejects with BackendError. */
export function createTransport(options: VaultApiOptions) {
  const httpsAgent = new https.Agent({
    keepAlive: true,
    maxSockets: 32,
    rejectUnauthorized: true,
    ...(options.caPem ? { ca: options.caPem } : {}),
  });
  const httpAgent = new http.Agent({ keepAlive: true, maxSockets: 32 });
  const maxBytes = options.maxResponseBytes ?? 8 * 1024 * 1024;

  function request(req: TransportRequest): Promise<TransportResponse> {
    const url = new URL(req.uri);
    const what = `${req.method} ${url.pathname.replace(/^\/v1\//, '')}`;
    if (url.protocol === 'http:' && !options.allowHttp) {
      return Promise.reject(
        new BackendError('InvalidRequest', 'vault: plain http:// is not allowed (tls.insecure is off)'),
      );
    }
    if (req.signal?.aborted) return Promise.reject(req.signal.reason);
    const body =
      req.json !== undefined && typeof req.json === 'object'
        ? Buffer.from(JSON.stringify(req.json))
        : undefined;
    const headers: Record<string, string> = { accept: 'application/json', ...req.headers };
    if (body) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = String(body.length);
    }
    const isHttps = url.protocol === 'https:';
    return new Promise<TransportResponse>((resolve, reject) => {
      const onError = (err: unknown) => {
        if (req.signal?.aborted) return reject(req.signal.reason);
        if (err instanceof BackendError) return reject(err);
        const net = mapNetworkErrorCode((err as { code?: unknown }).code);
        reject(
          net
            ? new BackendError(net.code, `vault ${what}: ${net.phrase}`, { transient: net.transient })
            : new BackendError('Unavailable', `vault ${what}: request failed`),
        );
      };
      const r = (isHttps ? https : http).request(
        url,
        {
          method: req.method,
          headers,
          agent: isHttps ? httpsAgent : httpAgent,
          ...(req.signal ? { signal: req.signal } : {}),
        },
        (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (chunk: Buffer) => {
            size += chunk.length;
            if (size > maxBytes) {
              res.destroy(
                new BackendError('Unavailable', `vault ${what}: response larger than ${maxBytes} bytes`),
              );
              return;
            }
            chunks.push(chunk);
          });
          res.on('error', onError);
          res.on('end', () => {
            const status = res.statusCode ?? 0;
            if (status === 429) {
              const retryAfterMs = parseRetryAfter(res.headers['retry-after'], Date.now());
              return reject(
                new BackendError('Throttled', `vault ${what}: rate limit reached (HTTP 429)`, {
                  ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
                }),
              );
            }
            let parsed: unknown;
            const text = Buffer.concat(chunks).toString('utf8');
            if (text.trim() !== '') {
              try {
                parsed = JSON.parse(text);
              } catch {
                parsed = undefined;
              }
            }
            resolve({ statusCode: status, body: parsed, request: { path: url.pathname } });
          });
        },
      );
      r.on('error', onError);
      r.end(body);
    });
  }

  return {
    request,
    close() {
      httpsAgent.destroy();
      httpAgent.destroy();
    },
  };
}
