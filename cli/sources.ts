import { dotenvSource } from '../init/dotenv-source.ts';
import type { RenderSettings } from '../init/render-settings.ts';
import type { Source } from '../init/source.ts';
import { type ClientSettings, requestTimeoutFor } from '../shared/client-settings.ts';
import { isSsmSource, type SourceSpec } from '../shared/config.ts';
import type { Logger } from '../shared/logger.ts';

/** What wiring the sources needs besides the settings. */
export interface SourceWiring {
  readonly logger: Logger;
  readonly readFile: (path: string) => Promise<Buffer>;
  /** `check --remote` reads the config's sources only, not a dotenv file. */
  readonly dotenv: boolean;
}

/**
 * The sources of a render in merge order, each bound to its settings: the dotenv file first (underneath), then
 * the config's sources in the order written (none in local mode). A source kind's client is loaded only when the
 * settings name such a source, so local mode loads no AWS SDK at all.
 */
export async function wireSources(settings: RenderSettings, wiring: SourceWiring): Promise<Source[]> {
  const sources: Source[] = [];
  if (wiring.dotenv) {
    // A dotenv path named explicitly must exist; the default `.env` is optional in production.
    const optional = settings.appEnv === 'production' && !settings.dotenvExplicit;
    sources.push(dotenvSource({ path: settings.dotenvPath, optional, readFile: wiring.readFile }));
  }
  if (settings.appEnv !== 'production') return sources;
  const bySpec = new Map<SourceSpec, Source>();
  const secrets = settings.sources.filter((s) => s.type === 'secretsmanager');
  if (secrets.length > 0) {
    const { wireSecretsManagerSources } = await import('./secrets-manager-wiring.ts');
    const wired = wireSecretsManagerSources(secrets, clientSettings(settings), wiring.logger);
    for (const [i, s] of wired.entries()) bySpec.set(secrets[i]!, s);
  }
  const parameters = settings.sources.filter(isSsmSource);
  if (parameters.length > 0) {
    const { wireSsmSources } = await import('./ssm-wiring.ts');
    const wired = wireSsmSources(parameters, clientSettings(settings));
    for (const [i, s] of wired.entries()) bySpec.set(parameters[i]!, s);
  }
  return [...sources, ...settings.sources.map((spec) => bySpec.get(spec)!)];
}

/** Every client of a render: its region, and a per-request timeout that leaves the deadline room for a retry. */
function clientSettings(settings: RenderSettings): ClientSettings {
  return { region: settings.region!, requestTimeoutMs: requestTimeoutFor(settings.timeoutMs) };
}
