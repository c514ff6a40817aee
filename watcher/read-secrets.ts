import type { SecretsPort } from '../shared/aws-ports.ts';
import type { CallContext } from './call-context.ts';
import type { Observation, SecretVersion } from './model.ts';
import { observeEach } from './observe-each.ts';
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
  const isArn = (id: string) => id.startsWith('arn:');
  const read = (id: string) => readSecretVersion(sm, id, ctx);
  const names = ids.filter((id) => !isArn(id));
  const byName = await observeEach(names, read);
  // An ARN a read by name returned is that secret, read already.
  const known = new Map<string, Observation<SecretVersion>>();
  for (const o of byName.values()) if (o.ok) known.set(o.value.arn, o);
  const byArn = await observeEach(ids.filter(isArn), async (id) => known.get(id) ?? read(id));
  return new Map([...byName, ...byArn]);
}
