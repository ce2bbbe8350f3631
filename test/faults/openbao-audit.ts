// OpenBao's own record of what reached it (the bed's file audit device, startTestbed({ openbaoAudit })):
// requests that are not the test's (the test uses the root token) are the operator's; their
// responses say which ones OpenBao refused. Entries hold HMACs, never values.
import { readFileSync, statSync } from 'node:fs';

interface AuditEntry {
  type: 'request' | 'response';
  auth?: { policies?: string[] };
  request?: { path?: string };
  error?: string;
}

export interface OperatorTraffic {
  /** Requests from the operator that reached OpenBao (logins included). */
  requests: number;
  logins: number;
  /** Responses with an error, by text (no values: OpenBao's own error strings). */
  errors: Record<string, number>;
  /** Of those, refusals of the token (HTTP 403 permission denied / invalid token). */
  refused: number;
}

export class OpenBaoAudit {
  readonly file: string;

  constructor(file: string) {
    this.file = file;
  }

  /** The current end of the log, to read from later. */
  mark(): number {
    return statSync(this.file).size;
  }

  operatorTraffic(from: number, to?: number): OperatorTraffic {
    const text = readFileSync(this.file).subarray(from, to).toString('utf8');
    const out: OperatorTraffic = { requests: 0, logins: 0, errors: {}, refused: 0 };
    for (const line of text.split('\n')) {
      if (line.trim() === '') continue;
      const e = JSON.parse(line) as AuditEntry;
      if (e.auth?.policies?.includes('root')) continue; // the test's own set-up calls
      const login = /^auth\/[^/]+\/login\b/.test(e.request?.path ?? '');
      if (e.type === 'request') {
        out.requests++;
        if (login) out.logins++;
      } else if (e.error) {
        out.errors[e.error] = (out.errors[e.error] ?? 0) + 1;
        if (/permission denied|invalid token|bad token/i.test(e.error)) out.refused++;
      }
    }
    return out;
  }
}
