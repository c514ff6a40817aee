import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { describeAwsError } from '../shared/aws-error.ts';
import type { SecretsPort } from '../shared/aws-ports.ts';
import type { CallContext } from './call-context.ts';
import type { Observation } from './model.ts';

/** The shortest key accepted: 128 bits of HMAC key material (the CloudFormation stack generates 64 characters). */
export const STATE_KEY_MIN_BYTES = 16;

/**
 * The key the state tags are signed with: a secret only the watcher's role may read (the watcher stack creates it,
 * with a resource policy for that role alone). Read once a pass, so a replaced key takes effect at the next pass:
 * states signed with the old one then fail to verify (one `state` failure per service, decided from deployment
 * times) and are signed again with the new one.
 */
export async function readStateKey(sm: SecretsPort, secretId: string, ctx: CallContext): Promise<Observation<Buffer>> {
  try {
    const out = await ctx.call('GetSecretValue', (abortSignal) =>
      sm.send(new GetSecretValueCommand({ SecretId: secretId, VersionStage: 'AWSCURRENT' }), { abortSignal }),
    );
    const key = out.SecretBinary ? Buffer.from(out.SecretBinary) : Buffer.from(out.SecretString ?? '', 'utf8');
    if (key.length < STATE_KEY_MIN_BYTES) {
      return {
        ok: false,
        error: `the state key holds ${key.length} bytes; at least ${STATE_KEY_MIN_BYTES} are needed`,
      };
    }
    return { ok: true, value: key };
  } catch (err) {
    return { ok: false, error: describeAwsError(err) };
  }
}
