import { join } from 'node:path';
import type { AwsProxy } from '../test/helpers/aws-proxy.ts';
import { cliEnv, measuredRun } from './measured-run.ts';
import type { Meter } from './meter.ts';

export interface CallCount {
  readonly n: number;
  /** Calls on the wire by action. */
  readonly counts: Record<string, number>;
  readonly wallMs: number;
}

/** One render each of 1, 20 and 100 secrets through the counting proxy: the calls it makes on the wire. */
export async function measureCallsPerRender(
  meter: Meter,
  o: {
    readonly dir: string;
    readonly home: string;
    readonly proxy: AwsProxy;
    readonly bundle: string;
    readonly ids: readonly string[];
  },
): Promise<CallCount[]> {
  const out: CallCount[] = [];
  for (const n of [1, 20, 100]) {
    o.proxy.resetCounts();
    const env = cliEnv(o.home, o.proxy.endpoint, {
      APP_ENV: 'production',
      SECRET_NAME: o.ids.slice(0, n).join(','),
      SECRETS_DIR: join(o.dir, 'calls', String(n)),
      NODE_COMPILE_CACHE: join(o.dir, 'cache', 'render-1'),
    });
    const { sample } = await measuredRun(meter, o.dir, `render of ${n} secrets`, {
      argv: [process.execPath, o.bundle],
      env,
      cwd: o.dir,
    });
    out.push({ n, counts: o.proxy.counts(), wallMs: sample.wallMs });
  }
  return out;
}
