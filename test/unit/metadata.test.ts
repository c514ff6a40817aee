import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { renderMetadata, type SourceRecord, sha256 } from '../../init/metadata.ts';
import type { OutputFile } from '../../init/plan.ts';

const ENV = "export APP_SECRET_KEY='VALUE-app-secret'\nexport OPENAI_API_KEY='sk-VALUE-openai'\n";
const GCP = '{"type":"service_account","private_key":"VALUE-gcp-private-key"}';
const SOURCES: SourceRecord[] = [
  { type: 'dotenv', path: '/srv/app/.env' },
  {
    type: 'secretsmanager',
    secretId: 'short-cut/prod/app',
    arn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:short-cut/prod/app-AbCdEf',
    versionId: '11111111-2222-3333-4444-555555555555',
    versionStages: ['AWSCURRENT'],
  },
];
// One valid render; cases tweak it.
const args = (tweak: Partial<Parameters<typeof renderMetadata>[0]> = {}): Parameters<typeof renderMetadata>[0] => ({
  renderedAt: new Date('2026-01-02T03:04:05.678Z'),
  appEnv: 'production',
  sources: SOURCES,
  keys: ['OPENAI_API_KEY', 'APP_SECRET_KEY', 'GOOGLE_APPLICATION_CREDENTIALS'],
  files: [
    { name: 'app.env', content: Buffer.from(ENV), mode: 0o440 },
    { name: 'gcp-credentials.json', content: Buffer.from(GCP), mode: 0o400 },
  ] satisfies OutputFile[],
  ...tweak,
});

describe('renderMetadata', () => {
  it('records time, sources, sorted key names and each file digest and mode', () => {
    const text = renderMetadata(args());
    assert.ok(text.endsWith('}\n'));
    assert.deepEqual(JSON.parse(text), {
      apiVersion: 'secrets-init/v1',
      renderedAt: '2026-01-02T03:04:05.678Z',
      appEnv: 'production',
      sources: SOURCES,
      keys: ['APP_SECRET_KEY', 'GOOGLE_APPLICATION_CREDENTIALS', 'OPENAI_API_KEY'],
      files: {
        'app.env': { sha256: createHash('sha256').update(ENV).digest('hex'), mode: '0440' },
        'gcp-credentials.json': { sha256: createHash('sha256').update(GCP).digest('hex'), mode: '0400' },
      },
    });
  });

  it('is deterministic: the same render gives the same bytes, whatever the order of the key names', () => {
    const a = renderMetadata(args());
    const b = renderMetadata(args({ keys: [...args().keys].reverse() }));
    assert.equal(a, b);
    assert.equal(renderMetadata(args()), a);
  });

  it('changes when a file changes (the digest follows the content)', () => {
    const changed = args();
    const files = [{ ...changed.files[0]!, content: Buffer.from(ENV.replace('VALUE', 'OTHER')) }, changed.files[1]!];
    assert.notEqual(renderMetadata({ ...changed, files }), renderMetadata(args()));
  });

  it('holds no value, only names, ids and digests', () => {
    const text = renderMetadata(args());
    for (const v of ['VALUE-app-secret', 'sk-VALUE-openai', 'VALUE-gcp-private-key', 'VALUE']) {
      assert.ok(!text.includes(v), `value ${v} in render.json`);
    }
  });

  it('does not sort or modify the caller key list', () => {
    const keys = ['B', 'A'];
    renderMetadata(args({ keys }));
    assert.deepEqual(keys, ['B', 'A']);
  });
});

describe('sha256', () => {
  it('matches the standard test vectors', () => {
    assert.equal(sha256(Buffer.alloc(0)), 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    assert.equal(sha256(Buffer.from('abc')), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });
});
