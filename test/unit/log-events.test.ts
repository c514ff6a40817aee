import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { LOG_EVENTS, logEvent } from '../../shared/log-events.ts';
import { createLogger } from '../../shared/logger.ts';
import { ROOT } from '../helpers/cli.ts';

/** A logger whose lines are kept as written (without `time`, which differs from line to line). */
function capture() {
  const lines: string[] = [];
  const dest = new Writable({
    write(chunk, _encoding, done) {
      lines.push(String(chunk).replace(/"time":"[^"]*",/, ''));
      done();
    },
  });
  return { log: createLogger('info', dest).child({ pass: 3 }), lines };
}

/** The product's source files, with their text. */
const productFiles = () =>
  ['cli', 'init', 'watcher', 'shared', 'ops'].flatMap((dir) =>
    readdirSync(join(ROOT, dir))
      .filter((f) => f.endsWith('.ts'))
      .map((f) => ({ file: `${dir}/${f}`, text: readFileSync(join(ROOT, dir, f), 'utf8') })),
  );

describe('logEvent', () => {
  it('writes the line pino writes for { event, ...fields } and the message, at the level given', () => {
    const viaCatalog = capture();
    const direct = capture();
    const fields = { cluster: 'prod', service: 'api', outcome: 'deferred', reason: 'cap' };
    logEvent(viaCatalog.log, 'info', 'watch.outcome', fields, 'deferred api: cap');
    direct.log.info({ event: 'watch.outcome', ...fields }, 'deferred api: cap');
    logEvent(viaCatalog.log, 'error', 'watch.outcome', { ...fields, stage: 'redeploy' }, 'failed');
    assert.deepEqual(viaCatalog.lines.slice(0, 1), direct.lines);
    assert.equal(
      viaCatalog.lines[0],
      '{"level":"info","name":"secrets-init","pass":3,"event":"watch.outcome","cluster":"prod","service":"api",' +
        '"outcome":"deferred","reason":"cap","msg":"deferred api: cap"}\n',
    );
    assert.match(viaCatalog.lines[1]!, /^\{"level":"error",.*"stage":"redeploy","msg":"failed"\}\n$/);
  });
});

describe('the catalog of log events', () => {
  const files = productFiles();

  it('has only events the product logs', () => {
    const code = files.filter((f) => f.file !== 'shared/log-events.ts').map((f) => f.text);
    for (const event of Object.keys(LOG_EVENTS)) {
      assert.ok(
        code.some((text) => text.includes(`'${event}'`)),
        `${event} is in the catalog but nothing logs it`,
      );
    }
  });

  it('is the only way to log an event: no logger call sets `event` itself', () => {
    for (const { file, text } of files) {
      assert.doesNotMatch(text, /\.(?:trace|debug|info|warn|error|fatal)\(\s*\{\s*event\b/, file);
    }
  });
});
