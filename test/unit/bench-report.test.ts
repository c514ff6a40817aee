import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Layer } from '../../bench/image-layers.ts';
import { type Measured, SPLIT_CACHES, SPLIT_STARTS, splitId } from '../../bench/measure-cold-start.ts';
import { type BenchResults, renderResults, snapshotVerdict, splitVerdict } from '../../bench/report.ts';

/** A run where every cold-start variant took `wall` ms except those given. */
function results(walls: Record<string, number>): BenchResults {
  const ids = [
    ...['floor', 'floor-snapshot', 'render-1', 'render-20', 'render-local', 'snapshot-1', 'snapshot-20'],
    ...['snapshot-local', 'sdk-floor', 'aws-1', 'aws-20', 'off-cache', 'off-lazy', 'off-minify', 'off-bundle'],
    ...['unpack-shipped', 'unpack-single', 'unpack-snapshot'],
    ...SPLIT_STARTS.flatMap((s) =>
      SPLIT_CACHES.flatMap((c) => [splitId('split', s.start, c.cache), splitId('single', s.start, c.cache)]),
    ),
  ];
  const coldStart = new Map<string, Measured>(
    ids.map((id) => {
      const wallMs = walls[id] ?? 50;
      const sample = { code: 0, wallMs, userMs: wallMs / 2, sysMs: wallMs / 4, maxRssKiB: 60 * 1024 };
      return [id, { variant: { id, label: id, argv: [] }, samples: [sample, sample, sample] }];
    }),
  );
  const layer = (start: Layer['start'], gzipBytes: number): Layer => ({
    start,
    label: start,
    file: `${start}.tar.gz`,
    tarBytes: gzipBytes * 3,
    gzipBytes,
    cacheBytes: gzipBytes,
  });
  const calls = [1, 20, 100].map((n) => ({ n, counts: { BatchGetSecretValue: Math.ceil(n / 20) }, wallMs: 90 }));
  const wire = { DescribeSecret: 1000, DescribeServices: 20, ListServices: 1 };
  const pass = { sample: coldStart.get('render-1')!.samples[0]!, wire, passMs: 3000, decisions: { skip: 200 } };
  return {
    at: new Date('2026-01-01T00:00:00Z'),
    machine: { cpu: 'cpu', cpus: 2, memGiB: 8, kernel: 'Linux', node: 'v24', aws: 'aws-cli/1', jq: 'jq-1.6' },
    loadBefore: [1, 1, 1],
    loadAfter: [1, 1, 1],
    runs: 3,
    awsEvery: 4,
    modelLatencyMs: 20,
    sizes: { shipped: 700_000, single: 900_000, unminified: 1_700_000, snapshot: 9_000_000, emptySnapshot: 6_000_000 },
    files: { shipped: 60, single: 1 },
    parsed: ['split', 'single'].flatMap((kind) =>
      SPLIT_STARTS.map(({ start }) => ({ kind, start, files: kind === 'split' ? 10 : 1, bytes: 100_000 })),
    ),
    layers: [layer('shipped', 340_000), layer('single', 300_000), layer('snapshot', 3_600_000)],
    coldStart,
    calls,
    watch: ['first', 'steady', 'rotated'].map((label) => ({ ...pass, label })),
    model: [0, 20].map((latencyMs) => ({ latencyMs, wallMs: 2000, cpuMs: 50, counts: wire, maxInFlight: 10 })),
    watchFleet: { secrets: 1000, services: 200 },
  };
}

describe('the startup snapshot verdict', () => {
  const cases: { name: string; walls: Record<string, number>; keep: boolean }[] = [
    {
      name: 'kept when it starts faster by more than its layer costs to unpack',
      walls: { 'render-1': 100, 'snapshot-1': 60, 'unpack-shipped': 10, 'unpack-snapshot': 30 },
      keep: true,
    },
    {
      name: 'not kept when unpacking its layer costs more than it saves (the measured case)',
      walls: { 'render-1': 99, 'snapshot-1': 82, 'unpack-shipped': 8, 'unpack-snapshot': 56 },
      keep: false,
    },
    {
      name: 'not kept when it does not start faster, however cheap its layer',
      walls: { 'render-1': 80, 'snapshot-1': 85, 'unpack-shipped': 10, 'unpack-snapshot': 5 },
      keep: false,
    },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const r = results(c.walls);
      assert.equal(snapshotVerdict(r).keep, c.keep);
      assert.match(renderResults(r), c.keep ? /Verdict .*: \*\*Kept\*\*/s : /Verdict .*: \*\*Not kept\*\*/s);
    });
  }

  test('the report prices the extra bytes at each assumed download rate and says they are assumed', () => {
    const text = renderResults(results({ 'render-1': 99, 'snapshot-1': 82 }));
    assert.match(text, /downloading \+3\.26 MB at 50 MB\/s \(a rate assumed, not measured\)/);
    assert.match(text, /downloading \+3\.26 MB at 200 MB\/s \(a rate assumed, not measured\)/);
  });
});

describe('the code-splitting verdict', () => {
  /** Every split start `split`, every one-file start `single` ms, the same with and without the cache. */
  const walls = (o: { split: number; single: number; splitCold?: number; unpackSplit?: number }) => {
    const w: Record<string, number> = { 'unpack-shipped': o.unpackSplit ?? 10, 'unpack-single': 10 };
    for (const s of SPLIT_STARTS) {
      for (const c of SPLIT_CACHES) {
        w[splitId('split', s.start, c.cache)] = c.cache === 'none' ? (o.splitCold ?? o.split) : o.split;
        w[splitId('single', s.start, c.cache)] = o.single;
      }
    }
    return w;
  };
  const cases: { name: string; walls: Record<string, number>; keep: boolean }[] = [
    {
      name: 'kept when it starts render faster with and without a cache',
      walls: walls({ split: 90, single: 100 }),
      keep: true,
    },
    {
      name: 'kept when it starts faster with the image cache however its layer unpacks (reported, not counted)',
      walls: walls({ split: 99, single: 100, splitCold: 80, unpackSplit: 20 }),
      keep: true,
    },
    {
      name: 'not kept when it starts only as fast with the image cache, however much faster without one',
      walls: walls({ split: 100, single: 100, splitCold: 50 }),
      keep: false,
    },
    {
      name: 'not kept when it is slower with the image cache',
      walls: walls({ split: 101, single: 100, splitCold: 80 }),
      keep: false,
    },
    {
      name: 'not kept when it starts no faster without a cache',
      walls: walls({ split: 90, single: 100, splitCold: 100 }),
      keep: false,
    },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const r = results(c.walls);
      assert.equal(splitVerdict(r).keep, c.keep);
      assert.match(
        renderResults(r),
        c.keep ? /keep the split if[^*]*: \*\*Kept\*\*/ : /keep the split if[^*]*: \*\*Not kept\*\*/,
      );
    });
  }

  test("the verdict and the Fargate row show what unpacking the split's layer adds", () => {
    const text = renderResults(results(walls({ split: 90, single: 100, unpackSplit: 14 })));
    assert.match(text, /also unpacks its layer: \+4 ms here\)/);
    assert.match(
      text,
      /\| Fargate \(no image cache\): unpack \+ `render` with the task role, wall, ms \| the image's \| 110 \| 104 \| −6 \|/,
    );
  });
});
