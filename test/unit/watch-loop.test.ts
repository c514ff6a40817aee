import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MAX_TIMER_MS } from '../../shared/duration.ts';
import { sleep } from '../../shared/sleep.ts';
import { nextDelay, runLoop } from '../../watcher/loop.ts';

/** A fake clock: sleeping advances time at once, unless the shutdown signal is already aborted. */
function fakeWorld(passMs: number) {
  let now = 0;
  const passes: { n: number; start: number; end: number }[] = [];
  const sleeps: number[] = [];
  let running = 0;
  let overlapped = false;
  return {
    passes,
    sleeps,
    overlapped: () => overlapped,
    deps: (shutdown: AbortSignal, onPass?: (n: number) => void) => ({
      monotonic: () => now,
      random: () => 0.5,
      shutdown,
      sleep: async (ms: number) => {
        sleeps.push(ms);
        now += ms;
      },
      runPass: async (n: number) => {
        if (running++ > 0) overlapped = true;
        const start = now;
        await new Promise((r) => setTimeout(r, 1));
        now += passMs;
        onPass?.(n);
        passes.push({ n, start, end: now });
        running--;
      },
    }),
  };
}

describe('runLoop', () => {
  it('runs passes one after another, start to start every interval, until shutdown', async () => {
    const w = fakeWorld(1000);
    const ac = new AbortController();
    const n = await runLoop(
      w.deps(ac.signal, (k) => k === 4 && ac.abort('SIGTERM')),
      { intervalMs: 60_000, jitter: 0 },
    );
    assert.equal(n, 4);
    assert.deepEqual(
      w.passes.map((p) => p.start),
      [0, 60_000, 120_000, 180_000],
    );
    assert.deepEqual(w.sleeps, [59_000, 59_000, 59_000], 'the pass time is taken off the wait');
    assert.equal(w.overlapped(), false);
  });

  it('starts the next pass at once when a pass outlasts the interval, never two at a time', async () => {
    const w = fakeWorld(90_000);
    const ac = new AbortController();
    await runLoop(
      w.deps(ac.signal, (k) => k === 3 && ac.abort()),
      { intervalMs: 60_000, jitter: 0.1 },
    );
    assert.deepEqual(w.sleeps, []);
    for (let i = 1; i < w.passes.length; i++) assert.ok(w.passes[i]!.start >= w.passes[i - 1]!.end);
    assert.equal(w.overlapped(), false);
  });

  it('lets the pass in flight finish on shutdown and starts no other', async () => {
    const ac = new AbortController();
    const events: string[] = [];
    const n = await runLoop(
      {
        monotonic: () => performance.now(),
        random: Math.random,
        shutdown: ac.signal,
        sleep,
        runPass: async (k) => {
          events.push(`start ${k}`);
          ac.abort('SIGTERM');
          await new Promise((r) => setTimeout(r, 20));
          events.push(`end ${k}`);
        },
      },
      { intervalMs: 1000, jitter: 0 },
    );
    assert.equal(n, 1);
    assert.deepEqual(events, ['start 1', 'end 1']);
  });

  it('wakes from the wait between passes at once on shutdown', async () => {
    const ac = new AbortController();
    const started = Date.now();
    setTimeout(() => ac.abort('SIGINT'), 30);
    const n = await runLoop(
      { monotonic: () => performance.now(), random: Math.random, shutdown: ac.signal, sleep, runPass: async () => {} },
      { intervalMs: 60_000, jitter: 0.1 },
    );
    assert.equal(n, 1);
    assert.ok(Date.now() - started < 1000);
  });

  it('runs no pass when shut down before the first', async () => {
    const ac = new AbortController();
    ac.abort();
    let ran = 0;
    await runLoop(
      {
        monotonic: () => performance.now(),
        random: Math.random,
        shutdown: ac.signal,
        sleep,
        runPass: async () => void ran++,
      },
      { intervalMs: 1000, jitter: 0 },
    );
    assert.equal(ran, 0);
  });
});

describe('nextDelay', () => {
  for (const [random, expected] of [
    [0, 270_000],
    [0.5, 300_000],
    [0.999999, 330_000],
  ] as const) {
    it(`moves a 5m interval by +-10%: random ${random} -> ${expected} ms`, () => {
      assert.ok(Math.abs(nextDelay(300_000, 0.1, random) - expected) <= 1);
    });
  }
});

describe('sleep', () => {
  it('waits longer than a timer holds (the longest interval plus jitter) instead of firing after 1 ms', async () => {
    // One setTimeout of 2^31 ms or more fires after 1 ms; the 50 ms timer set after it would then lose the race.
    const ac = new AbortController();
    const longest = Math.round(MAX_TIMER_MS * 1.1);
    const outcome = await Promise.race([
      sleep(longest, ac.signal).then(() => 'woke'),
      new Promise((resolve) => setTimeout(resolve, 50, 'still waiting')),
    ]);
    ac.abort('test done');
    assert.equal(outcome, 'still waiting');
  });

  it('returns at once when the signal aborts during a long wait', async () => {
    const ac = new AbortController();
    setTimeout(() => ac.abort('SIGTERM'), 10);
    await sleep(MAX_TIMER_MS * 3, ac.signal);
    assert.equal(ac.signal.aborted, true);
  });
});
