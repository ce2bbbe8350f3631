// The rules of `api` and `audit` a schema cannot express.
import { isObject } from '../json.ts';
import type { ProblemList } from '../problems.ts';
import { portOf } from './addresses.ts';

export function checkApi(api: unknown, problems: ProblemList): void {
  if (!isObject(api)) return;
  if (isObject(api.tls) && !problems.has('/api/tls')) {
    if ((api.tls.certFile === undefined) !== (api.tls.keyFile === undefined)) {
      problems.add('/api/tls', 'set both certFile and keyFile, or neither (a generated certificate)');
    } else if (api.tls.caFile !== undefined && api.tls.certFile === undefined) {
      problems.add(
        '/api/tls/caFile',
        'goes with certFile and keyFile (a generated certificate publishes its own CA)',
      );
    }
  }
  if (typeof api.address === 'string' && api.address !== '0' && !problems.has('/api/address')) {
    if (portOf(api.address) > 65535) problems.add('/api/address', 'port must be between 0 and 65535');
  }
  checkGrpc(api, problems);
}

/** api.grpc.address: a real port, not the HTTPS one, and only with HTTPS on (its certificate is shared). */
function checkGrpc(api: Record<string, unknown>, problems: ProblemList): void {
  const address = isObject(api.grpc) ? api.grpc.address : undefined;
  if (typeof address !== 'string' || address === '0' || problems.has('/api/grpc/address')) return;
  if (portOf(address) > 65535) problems.add('/api/grpc/address', 'port must be between 0 and 65535');
  else if (api.address === '0')
    problems.add(
      '/api/grpc/address',
      'needs the HTTPS API on (api.address is "0"): gRPC serves with its certificate',
    );
  else if (api.address === address && portOf(address) !== 0)
    problems.add('/api/grpc/address', 'is api.address; choose another port');
}

export function checkAudit(audit: unknown, problems: ProblemList): void {
  if (isObject(audit) && audit.sink === 'file' && audit.path === undefined) {
    problems.add('/audit/path', 'is required when sink is "file"');
  }
}
