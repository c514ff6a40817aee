import { createHash } from 'node:crypto';
import type { OutputFile } from './plan.ts';

/** A source as recorded in render.json: ids and versions, never a value. */
export type SourceRecord =
  | {
      readonly type: 'secretsmanager';
      readonly secretId: string;
      readonly arn?: string;
      readonly versionId?: string;
      readonly versionStages?: readonly string[];
    }
  | ({ readonly type: 'ssm-parameter'; readonly parameter: string } & ParameterRecord)
  | { readonly type: 'ssm-path'; readonly path: string; readonly parameters: readonly ParameterRecord[] }
  | { readonly type: 'dotenv'; readonly path: string };

/** A parameter as render.json records it: its name, version and last change (ISO 8601), never its value. */
export interface ParameterRecord {
  readonly name: string;
  readonly version?: number;
  readonly lastModified?: string;
}

export const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

/** render.json: what was rendered (time, sources, key names, file digests and modes). */
export function renderMetadata(args: {
  readonly renderedAt: Date;
  readonly appEnv: string;
  readonly sources: readonly SourceRecord[];
  readonly keys: readonly string[];
  readonly files: readonly OutputFile[];
}): string {
  const doc = {
    apiVersion: 'secrets-init/v1',
    renderedAt: args.renderedAt.toISOString(),
    appEnv: args.appEnv,
    sources: args.sources,
    keys: [...args.keys].sort(),
    files: Object.fromEntries(
      args.files.map((f) => [f.name, { sha256: sha256(f.content), mode: f.mode.toString(8).padStart(4, '0') }]),
    ),
  };
  return `${JSON.stringify(doc, null, 2)}\n`;
}
