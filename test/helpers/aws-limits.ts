/**
 * Limits AWS enforces and moto does not, as the test proxy applies them (`startAwsProxy(target, { limits: true })`,
 * on for every moto a test starts). Each refusal is the answer AWS gives: the modelled error name and HTTP status,
 * so the SDK classifies it as it would on AWS (throttling retried, validation not). Deliberately not shared with
 * the product code: this is the judge, the product is what it judges.
 */

/** What the proxy answers instead of forwarding. */
export interface Refusal {
  readonly status: number;
  /** The error name (`__type`) the SDK turns into the error's `name`. */
  readonly type: string;
  readonly message: string;
}

/** A token bucket: `capacity` requests at once (the burst), refilled at `perSecond` (the sustained rate). */
export interface RateQuota {
  readonly capacity: number;
  readonly perSecond: number;
}

/**
 * `service:Action`, the service as the X-Amz-Target prefix names it (`ecs:UpdateService`, `secretsmanager:...`,
 * `ssm:...`); or the name of a bucket several calls share (SSM_READS).
 */
export type QuotaKey = string;

/** Parameter Store's reads: one quota for the three calls together (below). */
export const SSM_READS: QuotaKey = 'ssm:GetParameter+GetParameters+GetParametersByPath';

/** Calls that draw on one quota between them, by the key of that quota's bucket. */
export const SHARED_QUOTAS: Readonly<Record<QuotaKey, QuotaKey>> = {
  'ssm:GetParameter': SSM_READS,
  'ssm:GetParameters': SSM_READS,
  'ssm:GetParametersByPath': SSM_READS,
};

/** The bucket a call takes its token from. */
export function quotaKeyOf(service: string, action: string): QuotaKey {
  const key = `${service}:${action}`;
  return SHARED_QUOTAS[key] ?? key;
}

/**
 * Account request-rate quotas (per account and Region) for the calls this tool makes.
 *
 * Secrets Manager: "AWS Secrets Manager quotas" (docs.aws.amazon.com/secretsmanager/latest/userguide/
 * reference_limits.html): BatchGetSecretValue 100 requests/s, not adjustable. "AWS Secrets Manager increases API
 * requests per second limits" (What's New, 2025-03-04): GetSecretValue 10,000/s, DescribeSecret 40,000/s. A rate
 * per second is modelled as a bucket of one second's worth.
 *
 * ECS: "Request throttling for the Amazon ECS API" (docs.aws.amazon.com/AmazonECS/latest/APIReference/
 * request-throttling.html): a token bucket per account and Region, burst = bucket size, sustained = refill rate;
 * throttled calls get ThrottlingException "Rate exceeded" (HTTP 400). Service read actions (DescribeServices,
 * ListServices): bucket 100, refill 20/s (the sustained 20/s is also what Prometheus' ECS discovery quotes from that
 * page, discovery/aws/ecs.go). UpdateService and TagResource: the copy of the page available when this was written
 * did not show their rows, so they get the same bucket as the service reads; check the live page and adjust here.
 *
 * SSM Parameter Store: "AWS Systems Manager endpoints and quotas" (docs.aws.amazon.com/general/latest/gr/ssm.html,
 * Parameter Store, "Max throughput (transactions per second)"): the default ("standard") throughput is 40 requests/s
 * shared by GetParameter, GetParameters and GetParametersByPath, per account and Region; "higher throughput" (a
 * paid setting, "Changing Parameter Store throughput" in the user guide) raises it. Throttled calls get
 * ThrottlingException "Rate exceeded" (Knowledge Center, "ssm-parameter-store-rate-exceeded"). DescribeParameters
 * is throttled too (same article) but no figure is published: it gets no bucket here.
 */
export const AWS_QUOTAS: Readonly<Record<QuotaKey, RateQuota>> = {
  'secretsmanager:BatchGetSecretValue': { capacity: 100, perSecond: 100 },
  'secretsmanager:GetSecretValue': { capacity: 10_000, perSecond: 10_000 },
  'secretsmanager:DescribeSecret': { capacity: 40_000, perSecond: 40_000 },
  'ecs:DescribeServices': { capacity: 100, perSecond: 20 },
  'ecs:ListServices': { capacity: 100, perSecond: 20 },
  'ecs:UpdateService': { capacity: 100, perSecond: 20 },
  'ecs:TagResource': { capacity: 100, perSecond: 20 },
  [SSM_READS]: { capacity: 40, perSecond: 40 },
};

/** DescribeServices takes at most 10 services (API reference; ECS answers "service names can have at most 10 items."). */
export const DESCRIBE_SERVICES_MAX = 10;
/** BatchGetSecretValue takes at most 20 ids (the model: SecretIdList min 1, max 20). */
export const BATCH_GET_MAX = 20;
/**
 * SSM (its model and API reference): GetParameters takes at most 10 names; GetParametersByPath answers at most 10
 * a page (MaxResults 1-10), DescribeParameters 50 (MaxResults 1-50). moto refuses the first two and not the third.
 */
export const GET_PARAMETERS_MAX = 10;
export const BY_PATH_MAX_RESULTS = 10;
export const DESCRIBE_PARAMETERS_MAX_RESULTS = 50;
/**
 * ECS tags ("Tagging your Amazon ECS resources", tag restrictions; the ECS model's TagKey/TagValue/Tags): at most 50
 * tags a resource; key 1-128 and value 0-256 Unicode characters; letters, numbers, spaces and `_ . : / = + - @`;
 * the `aws:` prefix is reserved for AWS.
 */
export const TAGS_PER_RESOURCE = 50;
export const TAG_KEY_MAX = 128;
export const TAG_VALUE_MAX = 256;
const TAG_TEXT = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u;

export const throttled: Refusal = { status: 400, type: 'ThrottlingException', message: 'Rate exceeded' };

/** The service a request is for, from its X-Amz-Target (`AmazonEC2ContainerServiceV20141113.X` -> `ecs`). */
export function serviceOf(target: string | undefined): string | undefined {
  if (target === undefined) return undefined;
  if (target.startsWith('AmazonEC2ContainerService')) return 'ecs';
  if (target.startsWith('secretsmanager.')) return 'secretsmanager';
  if (target.startsWith('AmazonSSM.')) return 'ssm';
  return undefined;
}

/** An ECS tag list's first problem as ECS would state it, or undefined. */
export function ecsTagsProblem(tags: unknown): string | undefined {
  if (!Array.isArray(tags)) return undefined;
  if (tags.length > TAGS_PER_RESOURCE) return `too many tags: ${tags.length}, at most ${TAGS_PER_RESOURCE}`;
  for (const t of tags as { key?: unknown; value?: unknown }[]) {
    const key = typeof t?.key === 'string' ? t.key : '';
    const value = typeof t?.value === 'string' ? t.value : '';
    const keyLength = [...key].length;
    if (keyLength < 1 || keyLength > TAG_KEY_MAX) return `tag key length ${keyLength}, must be 1-${TAG_KEY_MAX}`;
    if (!TAG_TEXT.test(key)) return `tag key "${key}" has characters a tag key cannot have`;
    if (key.toLowerCase().startsWith('aws:')) return `tag key "${key}": the aws: prefix is reserved`;
    const valueLength = [...value].length;
    if (valueLength > TAG_VALUE_MAX) return `tag value of "${key}": length ${valueLength}, at most ${TAG_VALUE_MAX}`;
    if (!TAG_TEXT.test(value)) return `tag value of "${key}" has characters a tag value cannot have`;
  }
  return undefined;
}

const invalidParameter = (message: string): Refusal => ({ status: 400, type: 'InvalidParameterException', message });

/** A model constraint broken, as AWS's JSON services state it (`1 validation error detected: ...`). */
const validation = (member: string, constraint: string): Refusal => ({
  status: 400,
  type: 'ValidationException',
  message: `1 validation error detected: Value at '${member}' failed to satisfy constraint: ${constraint}`,
});

/** The SSM calls' count limits (the values are left out of the message: they may be parameter names). */
function ssmRefusal(action: string, body: Record<string, unknown>): Refusal | undefined {
  if (action === 'GetParameters' && Array.isArray(body.Names) && body.Names.length > GET_PARAMETERS_MAX) {
    return validation('names', `Member must have length less than or equal to ${GET_PARAMETERS_MAX}`);
  }
  const most = { GetParametersByPath: BY_PATH_MAX_RESULTS, DescribeParameters: DESCRIBE_PARAMETERS_MAX_RESULTS }[
    action as 'GetParametersByPath'
  ];
  if (most !== undefined && typeof body.MaxResults === 'number' && body.MaxResults > most) {
    return validation('maxResults', `Member must have value less than or equal to ${most}`);
  }
  return undefined;
}

/**
 * The refusal a request gets for its contents alone (counts, tag grammar), or undefined. `existingTagKeys` is
 * asked only for TagResource, to count the tags the resource will have.
 */
export async function requestRefusal(
  service: string,
  action: string,
  body: Record<string, unknown>,
  existingTagKeys: (resourceArn: string) => Promise<readonly string[]>,
): Promise<Refusal | undefined> {
  if (service === 'secretsmanager' && action === 'BatchGetSecretValue') {
    const ids = body.SecretIdList;
    if (Array.isArray(ids) && ids.length > BATCH_GET_MAX) {
      return {
        status: 400,
        type: 'ValidationException',
        message: `1 validation error detected: Value at 'secretIdList' failed to satisfy constraint: Member must have length less than or equal to ${BATCH_GET_MAX}`,
      };
    }
    return undefined;
  }
  if (service === 'ssm') return ssmRefusal(action, body);
  if (service !== 'ecs') return undefined;
  if (action === 'DescribeServices') {
    const services = body.services;
    if (Array.isArray(services) && services.length > DESCRIBE_SERVICES_MAX) {
      return invalidParameter(`service names can have at most ${DESCRIBE_SERVICES_MAX} items.`);
    }
    return undefined;
  }
  if (action === 'TagResource' || action === 'CreateService' || action === 'RegisterTaskDefinition') {
    const problem = ecsTagsProblem(body.tags);
    if (problem) return invalidParameter(problem);
    if (action === 'TagResource' && Array.isArray(body.tags) && typeof body.resourceArn === 'string') {
      const keys = new Set(await existingTagKeys(body.resourceArn));
      for (const t of body.tags as { key: string }[]) keys.add(t.key);
      if (keys.size > TAGS_PER_RESOURCE) {
        return invalidParameter(`too many tags: the resource would have ${keys.size}, at most ${TAGS_PER_RESOURCE}`);
      }
    }
  }
  return undefined;
}

/** Token buckets per quota key; a key without a quota is never throttled. */
export class RateLimiter {
  readonly #quotas = new Map<QuotaKey, RateQuota>();
  readonly #buckets = new Map<QuotaKey, { tokens: number; at: number }>();
  readonly #now: () => number;

  constructor(quotas: Readonly<Record<QuotaKey, RateQuota>>, now: () => number = () => performance.now()) {
    for (const [k, q] of Object.entries(quotas)) this.#quotas.set(k, q);
    this.#now = now;
  }

  /** Changes (or with undefined removes) one quota; its bucket starts full. */
  set(key: QuotaKey, quota: RateQuota | undefined): void {
    if (quota) this.#quotas.set(key, quota);
    else this.#quotas.delete(key);
    this.#buckets.delete(key);
  }

  /** Takes a token: true if the call may go through, false if AWS would throttle it. */
  take(key: QuotaKey): boolean {
    const quota = this.#quotas.get(key);
    if (!quota) return true;
    const now = this.#now();
    const b = this.#buckets.get(key) ?? { tokens: quota.capacity, at: now };
    b.tokens = Math.min(quota.capacity, b.tokens + ((now - b.at) / 1000) * quota.perSecond);
    b.at = now;
    this.#buckets.set(key, b);
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }

  /** Every bucket full again (a fresh account, for the next test). */
  refill(): void {
    this.#buckets.clear();
  }
}
