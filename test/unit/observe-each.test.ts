import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { observeEach } from '../../watcher/observe-each.ts';

describe('observeEach', () => {
  it('reads each distinct id once, all at once, keyed in the order the ids came whatever order the reads end in', async () => {
    const started: string[] = [];
    const release = new Map<string, () => void>();
    const result = observeEach(['b', 'a', 'b', 'c'], async (id) => {
      started.push(id);
      await new Promise<void>((resolve) => release.set(id, resolve));
      return id === 'c' ? { ok: false, error: 'AccessDeniedException' } : { ok: true, value: id.toUpperCase() };
    });
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(started, ['b', 'a', 'c'], 'every read started before any ended');
    for (const id of ['c', 'a', 'b']) release.get(id)!();
    assert.deepEqual(
      [...(await result)],
      [
        ['b', { ok: true, value: 'B' }],
        ['a', { ok: true, value: 'A' }],
        ['c', { ok: false, error: 'AccessDeniedException' }],
      ],
    );
  });

  it('makes no read for no ids', async () => {
    assert.deepEqual([...(await observeEach([], () => assert.fail('no read')))], []);
  });
});
