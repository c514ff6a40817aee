import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/**
 * The AWS service models as the judge of a request: botocore's ParamValidator (what the aws CLI runs before it
 * sends anything) plus the model constraints it leaves to the service (max, enum, pattern), in one python process
 * for a whole list. moto accepts unknown keys and values AWS refuses; this does not.
 */

export interface ServiceRequest {
  /** What the request is, for messages: a file name, "inject output for ...". */
  readonly name: string;
  /** botocore's service name: `ecs`, `scheduler`, `events`, `iam`, `secretsmanager`, ... */
  readonly service: string;
  /** The API operation: `RegisterTaskDefinition`, `CreateSchedule`, ... */
  readonly operation: string;
  /** The parameters as the API (and `--cli-input-json`) takes them. */
  readonly params: unknown;
  /**
   * Convert strings to the member's number or boolean type first, as CloudFormation does with the values of its
   * (always string) parameters; for requests built from a template's properties.
   */
  readonly coerce?: boolean;
}

export interface ServiceVerdict {
  readonly name: string;
  /** Empty when the models accept the request. */
  readonly errors: readonly string[];
}

const SCRIPT = fileURLToPath(new URL('./service-model.py', import.meta.url));

/** Validates every request; throws (never skips) when python3 or botocore is missing. */
export function validateRequests(requests: readonly ServiceRequest[]): ServiceVerdict[] {
  const r = spawnSync('python3', [SCRIPT], {
    input: JSON.stringify(requests),
    encoding: 'utf8',
    maxBuffer: 1 << 26,
  });
  if (r.error) throw new Error(`service-model validation needs python3 with botocore: ${r.error.message}`);
  if (r.status !== 0) {
    throw new Error(`service-model validation failed to run (exit ${r.status}): ${r.stderr.trim()}`);
  }
  return JSON.parse(r.stdout) as ServiceVerdict[];
}

/** Asserts that the service models accept every request, listing every error of every request that fails. */
export function assertValidRequests(requests: readonly ServiceRequest[]): void {
  const bad = validateRequests(requests).filter((v) => v.errors.length > 0);
  assert.deepEqual(
    bad.map((v) => `${v.name}:\n  ${v.errors.join('\n  ')}`),
    [],
    'requests the AWS service models refuse',
  );
}
