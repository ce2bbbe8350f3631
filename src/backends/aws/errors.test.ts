import assert from 'node:assert/strict';
import {
  DecryptionFailure,
  InvalidRequestException,
  ResourceNotFoundException,
  SecretsManagerServiceException,
} from '@aws-sdk/client-secrets-manager';
import { BackendError } from '../../resilience/errors.ts';
import { mapAwsError } from './errors.ts';

const meta = (status: number) => ({ httpStatusCode: status, attempts: 1, totalRetryDelay: 0 });
/** What the SDK builds for an exception the service model does not name. */
const generic = (name: string, status: number, message: string, fault: 'client' | 'server' = 'client') =>
  new SecretsManagerServiceException({ name, $fault: fault, $metadata: meta(status), message });

describe('mapAwsError', () => {
  it('maps the modelled exceptions', () => {
    const cases: [unknown, BackendError['code'], RegExp][] = [
      [
        new ResourceNotFoundException({
          $metadata: meta(400),
          message: "Secrets Manager can't find the specified secret.",
        }),
        'NotFound',
        /^aws read "x": not found \(HTTP 400\)$/,
      ],
      [
        new DecryptionFailure({ $metadata: meta(400), message: 'kms says no' }),
        'PermissionDenied',
        /kms:Decrypt/,
      ],
      [
        new InvalidRequestException({
          $metadata: meta(400),
          message: "You can't perform this operation on the secret because it was marked for deletion.",
        }),
        'NotFound',
        /scheduled for deletion/,
      ],
      [generic('InternalServiceError', 500, 'oops', 'server'), 'Unavailable', /server error/],
      [generic('ResourceExistsException', 400, 'exists', 'client'), 'Conflict', /already exists/],
    ];
    for (const [err, code, message] of cases) {
      const mapped = mapAwsError(err, 'read "x"');
      assert.equal(mapped.code, code);
      assert.match(mapped.message, message);
    }
  });

  it('maps ThrottlingException (a generic service exception) to a transient Throttled', () => {
    const mapped = mapAwsError(generic('ThrottlingException', 400, 'Rate exceeded'), 'read "x"');
    assert.equal(mapped.code, 'Throttled');
    assert.equal(mapped.transient, true);
    assert.equal(mapped.message, 'aws read "x": rate limit reached (HTTP 400)');
  });

  it('keeps signature details and keys out of credential errors', () => {
    const text =
      "The request signature we calculated does not match. The Canonical String for this request should have been 'POST\n/\n\nhost:secretsmanager\nx-amz-date' AKIAIOSFODNN7EXAMPLE";
    for (const name of [
      'InvalidSignatureException',
      'UnrecognizedClientException',
      'ExpiredTokenException',
    ]) {
      const mapped = mapAwsError(generic(name, 400, text), 'read "x"');
      assert.equal(mapped.code, 'Unauthenticated');
      assert.equal(mapped.message.includes('Canonical'), false);
      assert.equal(mapped.message.includes('AKIA'), false);
    }
  });

  it('shows access-denied texts, sanitised', () => {
    const mapped = mapAwsError(
      generic(
        'AccessDeniedException',
        400,
        'User: arn:aws:sts::123456789012:assumed-role/app/x is not authorized to perform: secretsmanager:GetSecretValue\nBearer abc.def',
      ),
      'read "x"',
    );
    assert.equal(mapped.code, 'PermissionDenied');
    assert.match(mapped.message, /not authorized to perform: secretsmanager:GetSecretValue/);
    assert.equal(mapped.message.includes('abc.def'), false);
  });

  it('takes the exception name from x-amzn-errortype when the body could not be parsed', () => {
    const unparsed = Object.assign(new SyntaxError('Unexpected token \'<\', "<?xml" is not valid JSON'), {
      $metadata: meta(403),
      $response: { headers: { 'x-amzn-errortype': 'SignatureDoesNotMatch:http://internal' } },
    });
    const mapped = mapAwsError(unparsed, 'read "x"');
    assert.equal(mapped.code, 'Unauthenticated');
    assert.equal(
      mapped.message,
      'aws read "x": request signature rejected; check the secret access key (HTTP 403)',
    );
  });

  it('maps unknown statuses and network failures by class', () => {
    assert.equal(mapAwsError(generic('SomethingNew', 503, 'x', 'server'), 'w').code, 'Unavailable');
    assert.equal(mapAwsError(generic('SomethingNew', 429, 'x'), 'w').code, 'Throttled');
    assert.equal(mapAwsError(generic('SomethingNew', 403, 'x'), 'w').code, 'PermissionDenied');
    const net = mapAwsError(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }), 'w');
    assert.equal(net.code, 'Unavailable');
    assert.equal(net.message, 'aws w: connection refused');
    assert.equal(mapAwsError(new TypeError('boom secret'), 'w').message, 'aws w: unexpected TypeError');
  });
});
