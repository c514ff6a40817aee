import { resolve } from 'node:path';
import type { DestinationStream } from 'pino';
import { createEcsClient, createSecretsManagerClient } from '../shared/aws-clients.ts';
import type { EcsPort, SecretsPort } from '../shared/aws-ports.ts';
import { loadConfigFile } from '../shared/config-file.ts';
import { SourceError } from '../shared/errors.ts';
import { createLogger } from '../shared/logger.ts';
import { requestTimeoutFor } from '../shared/secrets-manager-client.ts';
import { sleep } from '../shared/sleep.ts';
import { runLoop } from '../watcher/loop.ts';
import { createRedeployClient } from '../watcher/redeploy-client.ts';
import { failureMessage, runPass } from '../watcher/run-pass.ts';
import { configPathOf, parseWatchFlags, resolveWatchSettings, WATCH_USAGE } from '../watcher/watch-settings.ts';
import type { Command } from './io.ts';

/** The world the watch command touches besides CliIo; tests pass their own to count or fake it. */
export interface WatchCommandDeps {
  /** `deploy` sends UpdateService only, and never resends one that may have been applied (createRedeployClient). */
  readonly createClients: (
    region: string,
    requestTimeoutMs: number,
  ) => { ecs: EcsPort; deploy: EcsPort; secrets: SecretsPort };
  readonly sleep: (ms: number, signal: AbortSignal) => Promise<void>;
  readonly now: () => number;
  readonly random: () => number;
}

const realDeps: WatchCommandDeps = {
  createClients: (region, requestTimeoutMs) => ({
    ecs: createEcsClient({ region, requestTimeoutMs }),
    deploy: createRedeployClient({ region, requestTimeoutMs }),
    secrets: createSecretsManagerClient({ region, requestTimeoutMs }),
  }),
  sleep,
  now: () => Date.now(),
  random: Math.random,
};

/** `secrets-init watch`: argv/env/config in, one pass (`--once`) or the loop, exit code out. */
export function createWatchCommand(deps: WatchCommandDeps = realDeps): Command {
  return async (args, io) => {
    const flags = parseWatchFlags(args);
    if (flags.help) {
      io.stdout.write(WATCH_USAGE);
      return 0;
    }
    const configPath = configPathOf(flags, io.env);
    const config = configPath === undefined ? undefined : await loadConfigFile(resolve(io.cwd, configPath));
    const settings = resolveWatchSettings(flags, io.env, config);

    const log = createLogger(settings.logLevel, io.stdout as unknown as DestinationStream).child({ cmd: 'watch' });
    io.captureConsole?.((line) => log.warn({ event: 'library.console' }, line));
    // A single slow request must not eat the whole pass: a third of the deadline, between 1 s and 10 s.
    const requestTimeoutMs = requestTimeoutFor(settings.passTimeoutMs);
    const { ecs, deploy, secrets } = deps.createClients(settings.region, requestTimeoutMs);
    const passOptions = {
      source: settings.source,
      maxRedeploys: settings.maxRedeploys,
      dryRun: settings.dryRun,
      concurrency: settings.concurrency,
      timeoutMs: settings.passTimeoutMs,
    };
    const passDeps = { ecs, deploy, secrets, log, now: deps.now };
    log.info(
      {
        event: 'watch.start',
        mode: settings.once ? 'once' : 'loop',
        bindings: settings.source.kind,
        clusters:
          settings.source.kind === 'discover' ? settings.source.clusters : settings.source.clusters.map((c) => c.name),
        intervalMs: settings.once ? undefined : settings.intervalMs,
        maxRedeploys: settings.maxRedeploys,
        dryRun: settings.dryRun,
      },
      'watch started',
    );

    if (settings.once) {
      const { failures } = await runPass(passDeps, { ...passOptions, pass: 1 });
      // Every failure is a watch.failure log line; stderr gets one line, as for any failing command (exit 3).
      const more = failures.length > 1 ? ` (and ${failures.length - 1} more; see the watch.failure log lines)` : '';
      if (failures.length > 0) throw new SourceError(`pass failed: ${failureMessage(failures[0]!)}${more}`);
      return 0;
    }

    const passes = await runLoop(
      {
        runPass: (n) => runPass(passDeps, { ...passOptions, pass: n }),
        sleep: deps.sleep,
        now: deps.now,
        random: deps.random,
        shutdown: io.shutdown,
      },
      { intervalMs: settings.intervalMs, jitter: settings.jitter },
    );
    // Stopping on request is a clean exit even if the last pass had failures: those were logged, and the next
    // watcher (or the next scheduled run) retries them; ECS should not count a requested stop as a crash.
    log.info({ event: 'watch.stop', passes, signal: String(io.shutdown.reason ?? '') }, 'watch stopped');
    return 0;
  };
}

export const watchCommand: Command = createWatchCommand();
