import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { looksLikeCredential, TOKEN_PREFIXES } from '../../init/credential-shape.ts';
import { shownKey } from '../../init/secret-value.ts';

const token = (n: number, seed = 7) => {
  const a = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  let x = seed;
  let s = '';
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    s += a[x % 62];
  }
  return s;
};

describe('looksLikeCredential', () => {
  for (const p of TOKEN_PREFIXES) {
    test(`a token with the prefix ${p} is a credential`, () =>
      assert.equal(looksLikeCredential(`${p}${token(36)}`), true));
  }
  for (const k of [
    'AKIAIOSFODNN7EXAMPLE',
    'ASIAXYZ0123456789ABC',
    'a3f91c2b4d5e6f708192a3b4c5d6e7f8',
    'DEADBEEF0123456789ABCDEF01',
    `Q${token(31)}`,
    `MY_${token(40, 3)}`,
  ]) {
    test(`${k.slice(0, 12)}... is a credential`, () => assert.equal(looksLikeCredential(k), true));
  }
  // Names people write, CamelCase and digits included: never mistaken for credentials.
  for (const k of [
    'OPENAI_API_KEY',
    'PINECONE_API_KEY',
    'GOOGLE_APPLICATION_CREDENTIALS_JSON',
    'AWS_SECRET_ACCESS_KEY',
    'NEXT_PUBLIC_SUPABASE_ANON_KEY',
    'ConnectionStrings__DefaultConnection',
    'OAuth2ClientSecretForGitHub',
    'AzureStorageAccount1Key',
    'K8sServiceAccountTokenPath',
    'HTTPSProxyURLForAPI',
    'S3BucketName2024Prod',
    'hf_token',
    'HF_HOME',
    'npm_config_registry',
    'sk_live',
    'KEY_0123456789',
    'SHA256_CHECKSUM',
  ]) {
    test(`${k} is a name`, () => assert.equal(looksLikeCredential(k), false));
  }
  test('a credential-shaped key is never shown in logs', () => {
    assert.equal(shownKey('AKIAIOSFODNN7EXAMPLE'), '(a 20-character key, not shown)');
    assert.equal(shownKey('OPENAI_API_KEY'), 'OPENAI_API_KEY');
  });
});
