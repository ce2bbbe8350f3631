// The operator as the API tests run it: as shipped (startTestOperator), its API on over HTTPS and
// gRPC on free ports, audited to a file of its own, one OpenBao backend for the team-* namespaces
// reading `{namespace}/**` and writing only what the test names.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { grpcClients } from './api-callers.ts';
import { startTestOperator, type TestOperator } from './operator.ts';
import type { Testbed } from './testbed.ts';

export interface ApiOperator {
  operator: TestOperator;
  grpcApi: ReturnType<typeof grpcClients>;
  /** The audit log file (sink: file). */
  auditFile: string;
}

export async function startApiOperator(
  bed: Testbed,
  opts: { allowedWritePaths: string[]; api?: Record<string, unknown> },
): Promise<ApiOperator> {
  const auditFile = join(mkdtempSync(join(tmpdir(), 'vaultsync-audit-')), 'audit.log');
  const api = { address: '127.0.0.1:0', grpc: { address: '127.0.0.1:0' }, ...opts.api };
  const operator = await startTestOperator(bed, {
    config: JSON.stringify({
      api,
      audit: { sink: 'file', path: auditFile },
      backends: [
        {
          name: 'vault',
          type: 'vault',
          address: bed.baoAddr,
          tls: { insecure: true },
          auth: { token: { value: bed.baoToken } },
          allowedNamespaces: ['team-*'],
          allowedPaths: ['{namespace}/**'],
          allowedWritePaths: opts.allowedWritePaths,
        },
      ],
    }),
  });
  return { operator, grpcApi: grpcClients(operator.grpcAddress!, operator.apiCaPem), auditFile };
}
