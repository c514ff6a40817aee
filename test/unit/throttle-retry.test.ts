import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { retryThrottled, THROTTLE_RETRY } from '../../shared/throttle-retry.ts';

const error = (name: string, status = 400) =>
  Object.assign(new Error(name), { name, $metadata: { httpStatusCode: status } });

/** A call that fails with the given errors in turn, then answers "ok"; and a recording clock. */
function scripted(...errors: Error[]) {
  let calls = 0;
  const waits: number[] = [];
  const fn = async () => {
    const e = errors[calls++];
    if (e) throw e;
    return 'ok';
  };
  const deps = {
    random: () => 1,
    sleep: async (ms: number) => {
      waits.push(ms);
    },
  };
  return { fn, deps, waits, calls: () => calls };
}
const live = () => new AbortController().signal;

describe('retryThrottled', () => {
  it('returns the first answer without waiting', async () => {
    const s = scripted();
    assert.equal(await retryThrottled(s.fn, live(), THROTTLE_RETRY, s.deps), 'ok');
    assert.deepEqual(s.waits, []);
  });

  it('sends a throttled call again after a full-jitter back-off that doubles up to its cap', async () => {
    const t = error('ThrottlingException');
    const s = scripted(t, t, t, t);
    assert.equal(await retryThrottled(s.fn, live(), { retries: 4, baseMs: 250, capMs: 1000 }, s.deps), 'ok');
    assert.deepEqual(s.waits, [250, 500, 1000, 1000]);
    assert.equal(s.calls(), 5);
  });

  it('throws the last throttling error once the retries are used up', async () => {
    const t = error('ThrottlingException');
    const s = scripted(t, t, t);
    await assert.rejects(retryThrottled(s.fn, live(), { retries: 2, baseMs: 1, capMs: 1 }, s.deps), t);
    assert.equal(s.calls(), 3);
  });

  it('never sends again after another error (a 5xx or a reset may have been applied)', async () => {
    for (const e of [error('InternalServiceError', 500), error('AccessDeniedException'), error('TimeoutError')]) {
      const s = scripted(e);
      await assert.rejects(retryThrottled(s.fn, live(), THROTTLE_RETRY, s.deps), e);
      assert.equal(s.calls(), 1, e.name);
    }
  });

  it('stops at the deadline: no call after the signal aborts, the throttling error is thrown', async () => {
    const t = error('ThrottlingException');
    const ac = new AbortController();
    const s = scripted(t, t);
    const deps = { random: () => 0.5, sleep: async () => ac.abort('deadline') };
    await assert.rejects(retryThrottled(s.fn, ac.signal, THROTTLE_RETRY, deps), t);
    assert.equal(s.calls(), 1);
  });

  it('waits on the real clock, and a deadline cuts the wait short', async () => {
    const t = error('ThrottlingException');
    let calls = 0;
    const started = Date.now();
    await assert.rejects(
      retryThrottled(
        async () => {
          calls++;
          throw t;
        },
        AbortSignal.timeout(50),
        { retries: 3, baseMs: 60_000, capMs: 60_000 },
      ),
      t,
    );
    assert.equal(calls, 1);
    assert.ok(Date.now() - started < 10_000, 'the 60 s back-off ended with the 50 ms deadline');
  });
});
