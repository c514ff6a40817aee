import { watch } from 'chokidar';
import { errorLine, exitCodeOf } from '../shared/errors.ts';
import { logEvent } from '../shared/log-events.ts';
import { type RenderDeps, render } from './render.ts';
import type { RenderSettings } from './render-settings.ts';

export const DEBOUNCE_MS = 150;

/**
 * `render --watch` for local development: render once (a failure there ends the command with its exit code),
 * then re-render whenever the dotenv file changes, debounced and never two renders at once. A broken edit is
 * logged and the last good files stay (render is all-or-nothing). Returns 0 when `stop` fires.
 */
export async function watchDotenv(settings: RenderSettings, deps: RenderDeps, stop: AbortSignal): Promise<number> {
  const { logger } = deps;
  try {
    await render(settings, deps, stop);
  } catch (err) {
    if (stop.aborted) return 0; // stopped during the first render: a requested stop, not a failure
    throw err;
  }
  if (stop.aborted) return 0;

  const watcher = watch(settings.dotenvPath, {
    ignoreInitial: true,
    // Editors save by writing a new file and renaming it over the old one; polling is for bind mounts
    // whose change events do not cross a VM boundary (Docker Desktop).
    usePolling: settings.watchPolling === true,
    interval: 250,
  });
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let again = false;

  const rerender = async () => {
    if (running) {
      again = true;
      return;
    }
    running = (async () => {
      do {
        again = false;
        try {
          await render(settings, deps, stop);
        } catch (err) {
          logEvent(
            logger,
            'error',
            'render.failed',
            { exitCode: exitCodeOf(err), error: errorLine(err) },
            'render failed; the last good files are kept',
          );
        }
      } while (again && !stop.aborted);
    })();
    await running;
    running = undefined;
  };
  const schedule = () => {
    clearTimeout(timer);
    timer = setTimeout(() => void rerender(), DEBOUNCE_MS);
  };
  watcher.on('add', schedule).on('change', schedule).on('unlink', schedule);
  watcher.on('error', (err) => {
    const error = (err as NodeJS.ErrnoException).code ?? 'error';
    logEvent(logger, 'error', 'dotenv-watch.error', { error }, 'file watcher error');
  });
  await new Promise<void>((resolve) => watcher.once('ready', () => resolve()));
  // An edit between the first render and the watcher being ready would otherwise wait for the next one.
  schedule();
  logEvent(logger, 'info', 'dotenv-watch.ready', { path: settings.dotenvPath }, 'watching the dotenv file');

  await new Promise<void>((resolve) => {
    if (stop.aborted) return resolve();
    stop.addEventListener('abort', () => resolve(), { once: true });
  });
  clearTimeout(timer);
  await watcher.close();
  await running;
  logEvent(logger, 'info', 'dotenv-watch.stopped', {}, 'stopped');
  return 0;
}
