import type { SecretsPort } from '../shared/aws-ports.ts';
import type { CallContext } from './call-context.ts';
import type { Observation, SecretVersion } from './model.ts';
import { readSecretVersion } from './read-secret-version.ts';

/**
 * Reads the AWSCURRENT version of every distinct secret id, one DescribeSecret each, except that an id which is
 * exactly the full ARN a read by name returned is not read again. So names go first and ARNs after them.
 * Other spellings of one secret (a partial ARN, an ARN in another form) still cost a read each: telling them apart
 * without asking is not safe (`...:secret:db-AbCdEf` may be the full ARN of `db` or the partial ARN of a secret
 * named `db-AbCdEf`), and the fingerprint is keyed by the ARN AWS returns, so they agree anyway.
 */
export async function readSecretVersions(
  sm: SecretsPort,
  ids: readonly string[],
  ctx: CallContext,
): Promise<Map<string, Observation<SecretVersion>>> {
  const out = new Map<string, Observation<SecretVersion>>();
  const read = (list: readonly string[], known: ReadonlyMap<string, Observation<SecretVersion>>) =>
    Promise.all(
      list.map(async (id) => {
        out.set(id, known.get(id) ?? (await readSecretVersion(sm, id, ctx)));
      }),
    );
  const distinct = [...new Set(ids)];
  const names = distinct.filter((id) => !id.startsWith('arn:'));
  const arns = distinct.filter((id) => id.startsWith('arn:'));
  await read(names, new Map());
  const byArn = new Map<string, Observation<SecretVersion>>();
  for (const o of out.values()) if (o.ok) byArn.set(o.value.arn, o);
  await read(arns, byArn);
  return out;
}
