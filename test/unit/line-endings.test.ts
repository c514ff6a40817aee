import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ROOT } from '../helpers/cli.ts';

// With core.autocrlf=true (Git for Windows' default) git writes CRLF into every text file it checks out unless
// .gitattributes says otherwise; "#!/bin/sh\r" then runs an interpreter named "sh\r". These read the attributes
// git applies at checkout (the containers test builds and runs an image from such a checkout).

function git(args: string[]): string {
  const r = spawnSync('git', ['-C', ROOT, ...args], { encoding: 'utf8', maxBuffer: 1 << 24 });
  assert.equal(r.status, 0, `git ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

/** Tracked files with git's view of them: `i/lf` (index), `attr/text eol=lf` (what checkout applies). */
function tracked(): { path: string; index: string; attr: string }[] {
  return git(['ls-files', '--eol'])
    .split('\n')
    .filter((l) => l !== '')
    .map((line) => {
      const [info, path] = line.split('\t') as [string, string];
      const [index, , ...attr] = info.trim().split(/\s+/);
      return { path, index: index!, attr: attr.join(' ') };
    });
}

/** What a shell, an image build or a container reads. */
const SHELL_OR_IMAGE = /(^|\/)(Dockerfile[^/]*|\.dockerignore|[^/]*\.sh|\.env|[^/]*\.env|compose[^/]*\.ya?ml)$/;
const hasShebang = (path: string) => readFileSync(join(ROOT, path)).subarray(0, 2).toString() === '#!';

describe('line endings', () => {
  it('checks every tracked file out with LF, whatever core.autocrlf says', () => {
    const files = tracked();
    assert.ok(files.length > 50, `only ${files.length} tracked files`);
    const notLf = files.filter((f) => !/(^|\s)eol=lf(\s|$)/.test(f.attr.replace(/^attr\//, '')));
    assert.deepEqual(notLf, [], 'files without eol=lf');
    const crlfInIndex = files.filter((f) => f.index !== 'i/lf' && f.index !== 'i/none');
    assert.deepEqual(crlfInIndex, [], 'files stored with CRLF or as binary');
  });

  it('declares what a shell or an image reads as text outright, never left to detection', () => {
    const critical = tracked()
      .map((f) => f.path)
      .filter((p) => SHELL_OR_IMAGE.test(p) || p === '.ci/run' || hasShebang(p));
    for (const p of ['init/entrypoint.sh', 'scripts/containers/setup.sh', '.ci/run', 'Dockerfile.init']) {
      assert.ok(critical.includes(p), `${p} is among the files checked`);
    }
    const attrs = git(['check-attr', 'text', 'eol', '--', ...critical]);
    for (const p of critical) {
      assert.ok(attrs.includes(`${p}: text: set\n`), `${p}: text is not set`);
      assert.ok(attrs.includes(`${p}: eol: lf\n`), `${p}: eol is not lf`);
    }
  });
});
