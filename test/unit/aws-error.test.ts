import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { awsErrorName, describeAwsError, isAccessDenied, isThrottling } from '../../shared/aws-error.ts';

// Text an SDK error can carry that must never reach a log line or the one-line error.
const LEAKS = [
  'LEAK-request-id-3f2a9c1e',
  'LEAK-secret-value',
  'X-Amz-Signature=LEAK',
  'AKIALEAKLEAKLEAKLEAK',
  'arn:aws:iam::123456789012:role/LEAK',
];
const LEAKY_MESSAGE =
  'User: arn:aws:iam::123456789012:role/LEAK is not authorized; RequestId: LEAK-request-id-3f2a9c1e; ' +
  'value LEAK-secret-value; https://x/?X-Amz-Signature=LEAK&AKIALEAKLEAKLEAKLEAK';

/** A fake SDK v3 service exception: name, message, $metadata with a request id, $response, extra fields. */
function sdkError(name: string, status: number | undefined, extra: Record<string, unknown> = {}): Error {
  const err = new Error(LEAKY_MESSAGE) as Error & Record<string, unknown>;
  err.name = name;
  err.$fault = status !== undefined && status >= 500 ? 'server' : 'client';
  err.$metadata = {
    ...(status !== undefined && { httpStatusCode: status }),
    requestId: 'LEAK-request-id-3f2a9c1e',
    extendedRequestId: 'LEAK-request-id-3f2a9c1e',
    attempts: 3,
  };
  err.$response = { body: LEAKY_MESSAGE, headers: { 'x-amzn-requestid': 'LEAK-request-id-3f2a9c1e' } };
  err.Message = LEAKY_MESSAGE;
  Object.assign(err, extra);
  return err;
}

describe('describeAwsError', () => {
  const table: { name: string; err: unknown; expected: string }[] = [
    {
      name: 'a modelled service error',
      err: sdkError('ResourceNotFoundException', 400),
      expected: 'ResourceNotFoundException',
    },
    { name: 'access denied', err: sdkError('AccessDeniedException', 400), expected: 'AccessDeniedException' },
    { name: 'throttling', err: sdkError('ThrottlingException', 400), expected: 'ThrottlingException' },
    {
      name: 'a server fault gets its status',
      err: sdkError('InternalServiceError', 500),
      expected: 'InternalServiceError (HTTP 500)',
    },
    {
      name: 'a 403 the protocol could not parse (moto answering XML)',
      err: sdkError('SyntaxError', 403),
      expected: 'AccessDenied (HTTP 403)',
    },
    {
      name: 'a 403 that is named',
      err: sdkError('UnrecognizedClientException', 403),
      expected: 'UnrecognizedClientException',
    },
    { name: 'an abort (deadline)', err: sdkError('AbortError', undefined), expected: 'deadline exceeded' },
    { name: 'an SDK timeout', err: sdkError('TimeoutError', undefined), expected: 'request timed out' },
    {
      name: 'a socket timeout',
      err: sdkError('Error', undefined, { code: 'ETIMEDOUT' }),
      expected: 'request timed out',
    },
    {
      name: 'a network error by code',
      err: sdkError('Error', undefined, { code: 'ECONNREFUSED' }),
      expected: 'network error ECONNREFUSED',
    },
    {
      name: 'a server-chosen name with spaces (unmodelled error: the SDK copies __type into name)',
      err: sdkError('oops LEAK-secret-value here', 400),
      expected: 'Error (HTTP 400)',
    },
    {
      name: 'a server-chosen code with spaces',
      err: sdkError('Error', 400, { code: 'LEAK-secret-value is bad' }),
      expected: 'Error (HTTP 400)',
    },
    { name: 'a plain Error', err: new Error(LEAKY_MESSAGE), expected: 'Error' },
    { name: 'a string', err: LEAKY_MESSAGE, expected: 'unknown error' },
    { name: 'null', err: null, expected: 'unknown error' },
  ];
  for (const c of table) {
    it(`describes ${c.name} by name and status only`, () => {
      const out = describeAwsError(c.err);
      assert.equal(out, c.expected);
      for (const leak of LEAKS) assert.ok(!out.includes(leak), `"${leak}" leaked into "${out}"`);
    });
  }

  it('never returns anything from the message, request id or response for any error name', () => {
    const names = ['ResourceNotFoundException', 'Error', 'SyntaxError', 'UnknownError', '', 'x'.repeat(200)];
    for (const name of names) {
      for (const status of [undefined, 200, 400, 403, 429, 500, 503]) {
        const out = describeAwsError(sdkError(name, status));
        for (const leak of LEAKS) assert.ok(!out.includes(leak), `"${leak}" in "${out}" (${name}, ${status})`);
        assert.ok(out.length <= 100, `short: ${out}`);
      }
    }
  });
});

describe('isAccessDenied', () => {
  const table: [string, unknown, boolean][] = [
    ['AccessDeniedException', sdkError('AccessDeniedException', 400), true],
    ['UnauthorizedOperation', sdkError('UnauthorizedOperation', 400), true],
    ['a bare 403 (expired or invalid credentials)', sdkError('SyntaxError', 403), false],
    ['not found', sdkError('ResourceNotFoundException', 400), false],
    ['throttling', sdkError('ThrottlingException', 400), false],
    ['a server fault', sdkError('InternalServiceError', 500), false],
    ['null', null, false],
  ];
  for (const [name, err, denied] of table) {
    it(`${denied ? 'is' : 'is not'} access denied: ${name}`, () => assert.equal(isAccessDenied(err), denied));
  }
});

describe('isThrottling', () => {
  const table: [string, unknown, boolean][] = [
    ['ThrottlingException (Secrets Manager, ECS)', sdkError('ThrottlingException', 400), true],
    ['TooManyRequestsException', sdkError('TooManyRequestsException', 400), true],
    ['any name with HTTP 429', sdkError('Error', 429), true],
    ['LimitExceededException (an ECS resource limit, not a rate)', sdkError('LimitExceededException', 400), false],
    ['validation', sdkError('ValidationException', 400), false],
    ['access denied', sdkError('AccessDeniedException', 400), false],
    ['a server fault', sdkError('InternalServiceError', 500), false],
    ['null', null, false],
  ];
  for (const [name, err, throttled] of table) {
    it(`${throttled ? 'is' : 'is not'} throttling: ${name}`, () => assert.equal(isThrottling(err), throttled));
  }
});

describe('awsErrorName', () => {
  it('returns the name of an error object and undefined otherwise', () => {
    assert.equal(awsErrorName(sdkError('ResourceNotFoundException', 400)), 'ResourceNotFoundException');
    assert.equal(awsErrorName('ResourceNotFoundException'), undefined);
    assert.equal(awsErrorName({}), undefined);
  });
});
