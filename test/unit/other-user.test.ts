import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, it } from 'node:test';
import { ROOT } from '../helpers/cli.ts';
import { assertReachableByOthers, reachableCopy, reachableNode } from '../helpers/other-user.ts';

// `npm test` must pass from a clone that other users cannot enter (`mktemp -d`, root's 0700 home). A test that runs
// something as another uid from the checkout passes wherever the checkout is world-traversable and fails only
// there, so these guards fail in any checkout instead.

/** The places allowed to drop privileges: they take what they run from reachableCopy() and check it. */
const SANCTIONED = ['test/helpers/other-user.ts', 'test/helpers/cli.ts', 'test/unit/other-user.test.ts'];

function testFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return e.name === 'containers' ? [] : testFiles(path);
    return e.name.endsWith('.ts') ? [path] : [];
  });
}

/** The text of each call to a child_process function, up to its closing parenthesis. */
function spawnCalls(source: string): string[] {
  const calls: string[] = [];
  for (const m of source.matchAll(/\b(?:spawn|spawnSync|execFile|execFileSync|fork)\(/g)) {
    let depth = 0;
    let end = m.index;
    for (; end < source.length; end++) {
      if (source[end] === '(') depth++;
      else if (source[end] === ')' && --depth === 0) break;
    }
    calls.push(source.slice(m.index, end + 1));
  }
  return calls;
}

describe('tests that run as another uid', () => {
  it('drop privileges only through test/helpers/other-user.ts (spawn with a uid, setpriv --reuid, runuser, sudo)', () => {
    const offenders: string[] = [];
    for (const file of testFiles(join(ROOT, 'test'))) {
      const name = relative(ROOT, file);
      if (SANCTIONED.includes(name)) continue;
      const source = readFileSync(file, 'utf8');
      for (const call of spawnCalls(source)) {
        if (/[{,\s](?:uid|gid)\s*[:,}]/.test(call)) offenders.push(`${name}: ${call.split('\n')[0]}`);
      }
      for (const m of source.matchAll(/--re?uid|\brunuser\b|\bsudo\b/g)) offenders.push(`${name}: ${m[0]}`);
    }
    assert.deepEqual(offenders, [], 'use runCli({ uid }), nodeAsOtherUser() or setprivPrefix() with reachableCopy()');
  });

  it('run copies that are outside the checkout and reachable by others', () => {
    const node = reachableNode();
    assertReachableByOthers(node, true);
    assert.ok(relative(ROOT, node).startsWith('..'), `${node} is outside ${ROOT}`);
    const readme = reachableCopy(join(ROOT, 'README.md'), 0o644);
    assert.equal(readFileSync(readme, 'utf8'), readFileSync(join(ROOT, 'README.md'), 'utf8'));
  });

  it('refuse a path inside the checkout, wherever the checkout is', () => {
    assert.throws(() => assertReachableByOthers(join(ROOT, 'dist', 'secrets-init.mjs')), /is inside the checkout/);
    assert.throws(() => assertReachableByOthers(process.execPath, true), /is inside the checkout|cannot be/);
  });
});
