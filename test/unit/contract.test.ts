// The files that cannot import shared/contract.ts (the entrypoint, the Dockerfiles) spell its names the same way.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { DIR_MODE, ENTRYPOINT, ENV_FILE, formatMode, INIT_USER, SECRETS_DIR } from '../../shared/contract.ts';
import { ROOT } from '../helpers/cli.ts';

const read = (file: string) => readFileSync(join(ROOT, file), 'utf8');

describe('the product names are spelled as shared/contract.ts defines them', () => {
  test('the entrypoint sources SECRETS_DIR/app.env, defaulting to the contract directory', () => {
    const sh = read('init/entrypoint.sh');
    assert.ok(sh.includes(`\${SECRETS_DIR:-${SECRETS_DIR}}`), 'default SECRETS_DIR');
    assert.ok(sh.includes(`/${ENV_FILE}`), 'the env file name');
  });

  test('the init image runs as the init user and owns the volume it declares, mode DIR_MODE', () => {
    const df = read('Dockerfile.init');
    assert.ok(df.includes(`USER ${INIT_USER}`));
    assert.ok(df.includes(`VOLUME ["${SECRETS_DIR}"]`));
    const [uid, gid] = INIT_USER.split(':');
    assert.ok(df.includes(`fs.chownSync(d, ${uid}, ${gid})`) && df.includes(`'${SECRETS_DIR}'`));
    assert.ok(df.includes(`fs.chmodSync(d, 0o${formatMode(DIR_MODE).slice(1)})`));
  });

  test('the app image installs the entrypoint where inject and the manifests expect it', () => {
    const df = read('Dockerfile.app');
    assert.ok(df.includes(`init/entrypoint.sh ${ENTRYPOINT}`));
    assert.ok(df.includes(`ENTRYPOINT ["${ENTRYPOINT}"]`));
  });
});
