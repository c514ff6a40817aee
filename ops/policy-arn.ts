import type { SsmSourceSpec } from '../shared/config.ts';
import { UsageError } from '../shared/errors.ts';
import { parameterArn } from '../shared/parameter-name.ts';

/** Where the policies apply: one account and region (the partition follows from the region). */
export interface AwsLocation {
  readonly account: string;
  readonly region: string;
}

const ACCOUNT = /^\d{12}$/;
const REGION = /^[a-z]{2}(-[a-z]+)+-\d{1,2}$/;
/** Characters Secrets Manager allows in a secret name; `*` and `?` are not among them, so no pattern can widen. */
const SECRET_NAME = /^[A-Za-z0-9/_+=.@-]{1,512}$/;
const SECRET_ARN = /^arn:(aws[a-z-]*):secretsmanager:([a-z0-9-]+):(\d{12}):secret:([A-Za-z0-9/_+=.@-]+)$/;
/** The six characters Secrets Manager appends to every secret ARN (`-AbCdEf`). */
const ARN_SUFFIX = /-[A-Za-z0-9]{6}$/;

/** Checks an account id and a region, naming the flag that gave them. */
export function checkLocation(loc: AwsLocation): AwsLocation {
  if (!ACCOUNT.test(loc.account)) throw new UsageError(`account "${loc.account}" must be 12 digits`);
  if (!REGION.test(loc.region)) throw new UsageError(`region "${loc.region}" is not a region name such as us-east-1`);
  return loc;
}

/** The ARN partition of a region: `aws`, `aws-cn` or `aws-us-gov`. */
export function partitionOf(region: string): string {
  if (region.startsWith('cn-')) return 'aws-cn';
  if (region.startsWith('us-gov-')) return 'aws-us-gov';
  return 'aws';
}

/** The DNS suffix of service endpoints in a region (what `kms:ViaService` holds). */
export function dnsSuffixOf(region: string): string {
  return region.startsWith('cn-') ? 'amazonaws.com.cn' : 'amazonaws.com';
}

/** A secret as IAM sees it: the resource pattern plus the account and region that hold it. */
export interface SecretResource {
  readonly id: string;
  readonly arnPattern: string;
  readonly account: string;
  readonly region: string;
}

/**
 * The IAM resource pattern for a secret id as the tools accept it (`SECRET_NAME`, `spec.sources[].secretId`).
 * A name `N` becomes `...:secret:N-??????`: Secrets Manager appends exactly six characters, and `N-*` would also
 * match `N-extra-AbCdEf`, another secret. A full ARN (with its suffix) is used as it is; a partial ARN (without
 * the suffix) gets `-??????`. A partial ARN whose name itself ends in `-` plus six letters or digits cannot be told
 * from a full one and is taken as full: give names or full ARNs.
 */
export function secretResource(id: string, loc: AwsLocation): SecretResource {
  const m = SECRET_ARN.exec(id);
  if (m) {
    const [, , region, account, name] = m as unknown as [string, string, string, string, string];
    return { id, arnPattern: ARN_SUFFIX.test(name) ? id : `${id}-??????`, account, region };
  }
  if (id.startsWith('arn:')) throw new UsageError(`secret "${id}" is not a Secrets Manager secret ARN`);
  if (!SECRET_NAME.test(id)) {
    throw new UsageError(`secret name "${id}" has characters Secrets Manager does not allow in a name`);
  }
  const arn = `arn:${partitionOf(loc.region)}:secretsmanager:${loc.region}:${loc.account}:secret:${id}-??????`;
  return { id, arnPattern: arn, account: loc.account, region: loc.region };
}

/**
 * What the app task reads from Parameter Store, as IAM sees it. A parameter is read with GetParameters on its own
 * ARN (a pinned `:version` or `:label` is no part of it). A path is read with GetParametersByPath, which IAM checks
 * against the path's ARN; granting the path also grants every level below it (SSM's rule: "if a user has access to
 * a path, then the user can access all levels of that path"), so `path/*` is granted too and nothing wider.
 * Sources name parameters of the task's own account and region (by name, not ARN).
 */
export interface ParameterResource {
  readonly kind: 'parameter' | 'path';
  /** The name or path as the config writes it. */
  readonly id: string;
  readonly arns: readonly string[];
  readonly account: string;
  readonly region: string;
}

export function parameterResource(spec: SsmSourceSpec, loc: AwsLocation): ParameterResource {
  const where = { partition: partitionOf(loc.region), region: loc.region, account: loc.account };
  const base = { account: loc.account, region: loc.region };
  if (spec.type === 'ssm-parameter') {
    return { kind: 'parameter', id: spec.parameter, arns: [parameterArn(spec.name, where)], ...base };
  }
  const arn = parameterArn(spec.path, where);
  return { kind: 'path', id: spec.path, arns: [arn, `${arn}/*`], ...base };
}
