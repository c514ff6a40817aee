/** Where each command finds its region, in order: `AWS_REGION` wins, `AWS_DEFAULT_REGION` is the fallback. */
export const REGION_VARIABLES = Object.freeze(['AWS_REGION', 'AWS_DEFAULT_REGION'] as const);

/** How a missing region is named in messages. */
export const REGION_REQUIRED = 'AWS_REGION (or AWS_DEFAULT_REGION) is required';

export interface EnvRegion {
  readonly region: string;
  /** The variable it came from, for messages about its value. */
  readonly variable: (typeof REGION_VARIABLES)[number];
}

/**
 * The region from the environment. `AWS_DEFAULT_REGION` is the aws CLI's variable (v1 reads only that one) and
 * the JS SDK ignores it, so a shell set up for the CLI would otherwise fail here; every command reads the region
 * through this function and hands it to its clients explicitly. Empty or blank values count as unset.
 */
export function regionFromEnv(env: Readonly<Record<string, string | undefined>>): EnvRegion | undefined {
  for (const variable of REGION_VARIABLES) {
    const value = env[variable]?.trim();
    if (value) return { region: value, variable };
  }
  return undefined;
}
