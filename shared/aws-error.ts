/**
 * An error this project raises inside the SDK's pipeline, where a guard of ours stops a request (a response body
 * over its cap, credentials that never come). Its description is our own text, safe for any message; kept apart
 * from `message`, to which the SDK appends hints of its own.
 */
export class RequestGuardError extends Error {
  readonly description: string;
  constructor(name: string, description: string) {
    super(description);
    this.name = name;
    this.description = description;
  }
}

/**
 * Turns an SDK error into a short, safe description: the error name and HTTP status only.
 * SDK messages can carry request ids, signed URLs or (for some services) echoes of the input,
 * so the raw message never reaches a log line or the one-line error.
 */
export function describeAwsError(err: unknown): string {
  if (err instanceof RequestGuardError) return err.description;
  if (typeof err !== 'object' || err === null) return 'unknown error';
  const e = err as { name?: unknown; code?: unknown; $metadata?: { httpStatusCode?: unknown }; cause?: unknown };
  let name = isErrorName(e.name) && e.name !== 'Error' ? e.name : undefined;
  if (!name && isErrorName(e.code)) name = e.code;
  name ??= 'Error';
  if (name === 'AbortError') return 'deadline exceeded';
  // The SDK renames ECONNRESET and EPIPE errors "TimeoutError" (to retry them): the code tells what happened.
  if (typeof e.code === 'string' && /^E[A-Z]+$/.test(e.code) && e.code !== 'ETIMEDOUT')
    return `network error ${e.code}`;
  if (name === 'TimeoutError' || e.code === 'ETIMEDOUT') return 'request timed out';
  const status = e.$metadata?.httpStatusCode;
  // moto (and some proxies) answer auth failures with XML the JSON protocol cannot parse.
  if (status === 403 && !/Denied|Forbidden|Unrecognized|Signature|Token/i.test(name)) {
    return 'AccessDenied (HTTP 403)';
  }
  // A bare "Error" says nothing: the status at least tells throttling, auth and server faults apart.
  return typeof status === 'number' && (status >= 500 || name === 'Error') ? `${name} (HTTP ${status})` : name;
}

/**
 * For an unmodelled error the SDK copies the name from the response (`__type`, `code`, a header), so it is
 * server text like the message: only a plain identifier (`ResourceNotFoundException`, `ECONNRESET`) is shown.
 */
function isErrorName(v: unknown): v is string {
  return typeof v === 'string' && /^[A-Za-z][A-Za-z0-9_]{0,79}$/.test(v);
}

/** The AWS error name if there is one (`ResourceNotFoundException`, ...). */
export function awsErrorName(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const name = (err as { name?: unknown }).name;
  return typeof name === 'string' ? name : undefined;
}

/** True for errors that mean "the caller may not do this". */
export function isAccessDenied(err: unknown): boolean {
  // By name only: a bare HTTP 403 is also what expired or invalid credentials get, and those are no reason to
  // fall back from BatchGetSecretValue to one GetSecretValue per secret.
  return /AccessDenied|UnauthorizedOperation|NotAuthorized/i.test(awsErrorName(err) ?? '');
}

/**
 * Error names AWS uses for "slow down" (the SDK's own list, less `LimitExceededException`, which ECS uses for
 * resource limits): the request was refused before anything was done, so sending it again is always safe.
 */
const THROTTLING_NAMES = new Set([
  'BandwidthLimitExceeded',
  'EC2ThrottledException',
  'PriorRequestNotComplete',
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
  'RequestThrottled',
  'RequestThrottledException',
  'SlowDown',
  'ThrottledException',
  'Throttling',
  'ThrottlingException',
  'TooManyRequestsException',
  'TransactionInProgressException',
]);

/** True for a throttling answer (by name, or HTTP 429): the account's request-rate quota, not a fault. */
export function isThrottling(err: unknown): boolean {
  if (THROTTLING_NAMES.has(awsErrorName(err) ?? '')) return true;
  const status = (err as { $metadata?: { httpStatusCode?: unknown } } | null)?.$metadata?.httpStatusCode;
  return status === 429;
}
