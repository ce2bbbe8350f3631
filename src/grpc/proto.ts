// The gRPC API's definitions, loaded at run time from proto/ (the source of truth; the types in
// generated/ come from the same files with the same options: hack/generate-grpc-types.ts).
import { fileURLToPath } from 'node:url';
import { type PackageDefinition, loadSync } from '@grpc/proto-loader';
import type { ProtoGrpcType } from './generated/api.ts';
import { loadPackageDefinition } from '@grpc/grpc-js';

/** proto/ beside src/ (and beside dist/ in the built package). */
const PROTO_DIR = fileURLToPath(new URL('../../proto', import.meta.url));
const API_PROTO = 'vaultsync/v1/api.proto';

/** Must match OPTIONS in hack/generate-grpc-types.ts. */
const LOADER_OPTIONS = {
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
  includeDirs: [PROTO_DIR],
};

export function apiPackageDefinition(): PackageDefinition {
  return loadSync(API_PROTO, LOADER_OPTIONS);
}

export function apiPackage(definition = apiPackageDefinition()): ProtoGrpcType['vaultsync']['v1'] {
  return (loadPackageDefinition(definition) as unknown as ProtoGrpcType).vaultsync.v1;
}
