// The reference point for `render`'s start-up: the smallest Node program that reads one secret with the AWS SDK v3
// (one client, one BatchGetSecretValue, print the count, exit). bench/run.ts bundles it like the CLI (minified, with
// a warm compile cache) and times it next to `render`: what is left between the two is secrets-init's own cost.
import { BatchGetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';

const client = new SecretsManagerClient({ region: process.env.AWS_REGION ?? 'us-east-1', maxAttempts: 4 });
const out = await client.send(new BatchGetSecretValueCommand({ SecretIdList: [process.env.SECRET_NAME ?? ''] }));
process.stdout.write(`${out.SecretValues?.length ?? 0} secret(s) read\n`);
client.destroy();
