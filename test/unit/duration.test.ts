import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { MAX_TIMER_MS, parseDuration, showMs } from '../../shared/duration.ts';

describe('parseDuration', () => {
  const accepted: [string, number][] = [
    ['30s', 30_000],
    ['5m', 300_000],
    ['1h', 3_600_000],
    ['250ms', 250],
    ['45', 45_000],
    [' 1.5s ', 1500],
    ['596h', 596 * 3_600_000],
    [`${MAX_TIMER_MS}ms`, MAX_TIMER_MS],
  ];
  for (const [text, ms] of accepted) {
    it(`reads ${JSON.stringify(text)} as ${ms} ms`, () => assert.equal(parseDuration(text), ms));
  }

  const refused: [string, string, RegExp][] = [
    ['garbage', 'soon', /^"soon" is not a duration such as "30s", "5m" or "1h"$/],
    ['a negative', '-5s', /is not a duration/],
    ['Infinity', 'Infinity', /is not a duration/],
    ['NaN', 'NaN', /is not a duration/],
    ['an exponent', '1e3s', /is not a duration/],
    ['hex', '0x10', /is not a duration/],
    ['an unknown unit', '5d', /is not a duration/],
    ['two units', '1h30m', /is not a duration/],
    ['empty', '', /is not a duration/],
    ['zero', '0s', /^"0s" is shorter than the minimum of 1ms$/],
    ['rounding to zero', '0.0001ms', /shorter than the minimum/],
    ['30 days', '720h', /^"720h" is longer than the maximum of 2147483647ms \(about 24.8 days, the longest wait/],
    ['one ms past a timer', `${MAX_TIMER_MS + 1}ms`, /longer than the maximum/],
    ['a thousand digits (Infinity as a number)', '9'.repeat(1000), /^"9{40}\.\.\." is longer than the maximum/],
  ];
  for (const [name, text, problem] of refused) {
    it(`refuses ${name} with a problem that quotes it`, () => {
      const r = parseDuration(text);
      assert.equal(typeof r, 'string', `got ${r}`);
      assert.match(r as string, problem);
    });
  }

  it('applies a range: the minimum and maximum are inclusive and shown in the largest exact unit', () => {
    const range = { min: 1000, max: 3_600_000 };
    assert.equal(parseDuration('1s', range), 1000);
    assert.equal(parseDuration('60m', range), 3_600_000);
    assert.equal(parseDuration('999ms', range), '"999ms" is shorter than the minimum of 1s');
    assert.equal(parseDuration('3600001ms', range), '"3600001ms" is longer than the maximum of 1h');
  });

  it('never yields a number a timer cannot hold, whatever the text (property)', () => {
    const unit = fc.constantFrom('', 'ms', 's', 'm', 'h');
    const digits = fc.stringMatching(/^\d{1,30}(\.\d{1,5})?$/);
    const texts = fc.oneof(
      fc.string(),
      fc.tuple(digits, unit).map(([d, u]) => d + u),
    );
    fc.assert(
      fc.property(texts, (text) => {
        const r = parseDuration(text);
        if (typeof r === 'string') return r.length < 200 && !r.includes('\n');
        return Number.isSafeInteger(r) && r >= 1 && r <= MAX_TIMER_MS;
      }),
      { numRuns: 2000 },
    );
  });
});

describe('showMs', () => {
  for (const [ms, text] of [
    [3_600_000, '1h'],
    [90_000, '90s'],
    [120_000, '2m'],
    [250, '250ms'],
    [MAX_TIMER_MS, '2147483647ms'],
  ] as const) {
    it(`shows ${ms} as ${text}`, () => assert.equal(showMs(ms), text));
  }
});
