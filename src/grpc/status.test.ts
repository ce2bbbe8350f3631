import assert from 'node:assert/strict';
import { status } from '@grpc/grpc-js';
import { BackendError } from '../resilience/errors.ts';
import { ApiError } from '../http/api/errors.ts';
import { ERROR_CODE_KEY, grpcStatusOf, toServiceError } from './status.ts';

describe('gRPC status of API errors', () => {
  it('maps each HTTP outcome to its gRPC code', () => {
    const table: [ConstructorParameters<typeof ApiError>[0], status][] = [
      ['Unauthenticated', status.UNAUTHENTICATED],
      ['Forbidden', status.PERMISSION_DENIED],
      ['NotFound', status.NOT_FOUND],
      ['Conflict', status.ABORTED],
      ['TooManyRequests', status.RESOURCE_EXHAUSTED],
      ['BadRequest', status.INVALID_ARGUMENT],
      ['BackendUnavailable', status.UNAVAILABLE],
      ['Timeout', status.DEADLINE_EXCEEDED],
    ];
    for (const [code, expected] of table) assert.equal(grpcStatusOf(code), expected, code);
  });

  it('carries the API code and retry time in metadata; anything unknown is a bare INTERNAL', () => {
    const { error } = toServiceError(new BackendError('TenancyDenied', 'path not allowed for namespace'));
    assert.equal(error.code, status.PERMISSION_DENIED);
    assert.deepEqual(error.metadata?.get(ERROR_CODE_KEY), ['Forbidden']);
    const limited = toServiceError(new ApiError('TooManyRequests', 'slow down', 2_500)).error;
    assert.deepEqual(limited.metadata?.get('retry-after-seconds'), ['3']);
    const internal = toServiceError(new Error('secret-value-in-message')).error;
    assert.equal(internal.code, status.INTERNAL);
    assert.doesNotMatch(String(internal.details), /secret-value/);
  });
});
