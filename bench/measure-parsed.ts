import { mkdirSync, rmSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { traceModules } from '../test/helpers/module-trace.ts';
import { prepareRun, SPLIT_STARTS, splitId, type Variant } from './measure-cold-start.ts';

// What each render start loads of a bundle, i.e. what V8 has to parse: the files (entry and chunks) a run loads,
// found by the module trace of the tests (test/helpers/module-trace.ts), and their bytes.

export interface Parsed {
  /** `split` or `single`. */
  readonly kind: string;
  readonly start: string;
  readonly files: number;
  readonly bytes: number;
}

/** One traced run of each start of SPLIT_STARTS, split and one file, with the variants' environment. */
export async function measureParsed(o: {
  readonly dir: string;
  readonly home: string;
  readonly endpoint: string;
  readonly taskRoleUrl: string;
  readonly variants: readonly Variant[];
}): Promise<Parsed[]> {
  const out: Parsed[] = [];
  for (const kind of ['split', 'single'] as const) {
    for (const { start } of SPLIT_STARTS) {
      const v = o.variants.find((x) => x.id === splitId(kind, start, 'image'))!;
      const work = join(o.dir, 'work', 'parsed');
      rmSync(work, { recursive: true, force: true });
      mkdirSync(work, { recursive: true });
      const env = prepareRun(v, o, work, { NODE_DISABLE_COMPILE_CACHE: '1' });
      const [node, entry, ...args] = v.argv;
      const res = await traceModules([entry!, ...args], env, { cwd: work });
      if (res.code !== 0 || node !== process.execPath)
        throw new Error(`traced ${v.id} exited ${res.code}: ${res.stderr}`);
      const bundle = res.files.filter((f) => !relative(dirname(entry!), f).startsWith('..'));
      out.push({ kind, start, files: bundle.length, bytes: bundle.reduce((n, f) => n + statSync(f).size, 0) });
    }
  }
  return out;
}
