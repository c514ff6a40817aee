import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { routeConsole } from '../../shared/route-console.ts';

describe('routeConsole', () => {
  it('sends every console method to the sink as one formatted line, and gives them back', () => {
    const printed: string[] = [];
    const target = {
      log: () => printed.push('log'),
      info: () => printed.push('info'),
      warn: () => printed.push('warn'),
      error: () => printed.push('error'),
      debug: () => printed.push('debug'),
      trace: () => printed.push('trace'),
    } as unknown as Console;
    const sunk: string[] = [];
    const restore = routeConsole((line) => sunk.push(line), target);
    target.warn('%s - [WARN] a request has exceeded the configured %d ms', '@smithy/node-http-handler', 1000);
    target.error(new Error('boom').message, { code: 'E' });
    for (const m of ['log', 'info', 'debug', 'trace'] as const) target[m](m);
    target.log('x'.repeat(5000));
    assert.deepEqual(sunk.slice(0, 6), [
      '@smithy/node-http-handler - [WARN] a request has exceeded the configured 1000 ms',
      "boom { code: 'E' }",
      'log',
      'info',
      'debug',
      'trace',
    ]);
    assert.equal(sunk[6]!.length, 2000, 'cut at 2000 characters');
    assert.deepEqual(printed, [], 'nothing reached the real console');
    restore();
    target.warn('after');
    assert.deepEqual(printed, ['warn']);
  });
});
