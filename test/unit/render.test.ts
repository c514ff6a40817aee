// render() through RenderDeps: plain fake sources, a real temp directory, a logger into a buffer.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { render } from '../../init/render.ts';
import { type RenderSettings, resolveRenderSettings } from '../../init/render-settings.ts';
import type { Layer } from '../../init/secret-value.ts';
import type { Source, SourceVerdict } from '../../init/source.ts';
import { SourceError, ValidationError } from '../../shared/errors.ts';
import { createLogger } from '../../shared/logger.ts';
import { removeDir, tempDir } from '../helpers/cli.ts';

let work: string;
beforeEach(() => {
  work = tempDir();
});
afterEach(() => removeDir(work));

const settings = (): RenderSettings =>
  resolveRenderSettings({ appEnv: 'local', outputDir: join(work, 'out') }, {}, undefined, work);

const layer = (origin: string, vars: Record<string, string>): Layer => ({
  origin,
  entries: new Map(Object.entries(vars).map(([k, v]) => [k, { kind: 'text', text: v }])),
});

/** A source that answers with one verdict and counts its reads. */
function fake(subject: string, verdict: Partial<SourceVerdict> & { vars?: Record<string, string> }, remote = true) {
  let reads = 0;
  const source: Source = {
    subject,
    remote,
    read: async () => {
      reads++;
      return [
        {
          subject,
          read: verdict.read ?? {
            ok: true,
            value: {
              layer: layer(subject, verdict.vars ?? {}),
              record: { type: 'dotenv', path: subject },
              version: 'v1',
            },
          },
          problems: verdict.problems ?? [],
          warnings: verdict.warnings ?? [],
        },
      ];
    },
  };
  return { source, reads: () => reads };
}

function deps(sources: Source[]) {
  const lines: Record<string, unknown>[] = [];
  const dest = new Writable({
    write(chunk, _enc, done) {
      lines.push(JSON.parse(String(chunk)));
      done();
    },
  });
  return { deps: { logger: createLogger('info', dest), now: () => new Date(0), sources }, lines };
}

describe('render', () => {
  test('merges the sources in order, later wins, and records each of them', async () => {
    const a = fake('first', { vars: { A: '1', SHARED: 'first' } }, false);
    const b = fake('second', { vars: { B: '2', SHARED: 'second' } });
    const { deps: d, lines } = deps([a.source, b.source]);
    const out = await render(settings(), d);
    assert.deepEqual(out.keys, ['A', 'B', 'SHARED']);
    assert.equal(
      readFileSync(join(work, 'out', 'app.env'), 'utf8'),
      "export A='1'\nexport B='2'\nexport SHARED='second'\n",
    );
    const meta = JSON.parse(readFileSync(join(work, 'out', 'render.json'), 'utf8'));
    assert.deepEqual(
      meta.sources.map((s: { path: string }) => s.path),
      ['first', 'second'],
    );
    assert.deepEqual(
      lines.filter((l) => l.event === 'source.read').map((l) => [l.source, l.version, l.keys]),
      [
        ['first', 'v1', ['A', 'SHARED']],
        ['second', 'v1', ['B', 'SHARED']],
      ],
    );
  });

  test('fails closed (exit 3) naming every source that could not be read, and writes nothing', async () => {
    const a = fake('secret "a"', { read: { ok: false, error: 'AccessDeniedException' } });
    const b = fake('secret "b"', { read: { ok: false, error: 'ResourceNotFoundException' } });
    await assert.rejects(
      render(settings(), deps([a.source, b.source]).deps),
      (err: unknown) =>
        err instanceof SourceError &&
        err.message === 'reading secret "a": AccessDeniedException; reading secret "b": ResourceNotFoundException',
    );
  });

  test('fails closed (exit 4) on problems with what was read', async () => {
    const a = fake('secret "a"', { vars: { A: '1' }, problems: ['secret "a" is not a JSON object'] });
    await assert.rejects(
      render(settings(), deps([a.source]).deps),
      (err: unknown) => err instanceof ValidationError && /secret "a" is not a JSON object/.test(err.message),
    );
  });

  test('reads the local sources first and never reaches a remote one when they fail', async () => {
    const local = fake('dotenv ".env"', { problems: ['dotenv ".env": a quote is opened and never closed'] }, false);
    const remote = fake('secret "a"', { vars: { A: '1' } });
    await assert.rejects(render(settings(), deps([local.source, remote.source]).deps), ValidationError);
    assert.equal(remote.reads(), 0, 'no AWS call when the dotenv file is broken');
  });

  test('logs the warnings of a source as their events', async () => {
    const warning = { event: 'dotenv.comment' as const, path: '.env', line: 3, key: 'PASSWORD', msg: 'cut at #' };
    const a = fake('dotenv ".env"', { vars: { PASSWORD: 'abc' }, warnings: [warning] }, false);
    const { deps: d, lines } = deps([a.source]);
    await render(settings(), d);
    const logged = lines.find((l) => l.event === 'dotenv.comment')!;
    assert.deepEqual([logged.level, logged.line, logged.key, logged.msg], ['warn', 3, 'PASSWORD', 'cut at #']);
  });
});
