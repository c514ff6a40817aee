/**
 * SSM Parameter Store names as this tool takes them, checked before any call (SSM's own rules, "Creating Parameter
 * Store parameters", and the model of GetParameters/GetParametersByPath): letters, digits, `_ . -` and `/` for the
 * hierarchy; a name with a `/` begins with one; at most 15 levels and 1011 characters. Names are case-sensitive.
 * The `/aws` and `/ssm` prefixes are reserved for creating parameters only: AWS's public parameters
 * (`/aws/service/...`) are read like any other, so they are not refused here.
 */

/** The characters of a parameter name. */
const NAME_CHARS = /^[A-Za-z0-9_.\-/]+$/;
/** SSM counts the ARN's own characters in this too; a name longer than this can never exist. */
export const PARAMETER_NAME_MAX = 1011;
/** "A parameter name hierarchy can have a maximum of 15 levels." */
export const PARAMETER_LEVELS_MAX = 15;
/**
 * What may follow `:` in GetParameters (`name:selector`): a version (1 upward; SSM keeps the last 100) or a label
 * (letters, digits, `. - _`, at most 100, not starting with a digit, `aws` or `ssm`).
 */
const VERSION = /^[1-9][0-9]{0,9}$/;
const LABEL = /^[A-Za-z][A-Za-z0-9_.-]{0,99}$/;

/** A parameter as a source names it: the name, and a version or label pinned with `:` (`/app/db:3`). */
export interface ParameterRef {
  readonly name: string;
  readonly selector?: string;
}

/** Why `name` cannot be an SSM parameter name, or undefined. */
export function parameterNameProblem(name: string): string | undefined {
  if (name.length > PARAMETER_NAME_MAX) return `longer than ${PARAMETER_NAME_MAX} characters`;
  if (!NAME_CHARS.test(name)) return 'has characters a parameter name cannot have (letters, digits, _ . - / only)';
  if (name.includes('/') && !name.startsWith('/')) return 'a name with "/" must begin with "/"';
  if (name.includes('//')) return 'has an empty level ("//")';
  if (name.endsWith('/')) return 'ends with "/" (a path, not a parameter)';
  if (levels(name) > PARAMETER_LEVELS_MAX) return `more than ${PARAMETER_LEVELS_MAX} levels`;
  return undefined;
}

/** `/short-cut/prod/DATABASE_URL` or `/short-cut/prod/DATABASE_URL:3` (a version) or `...:stable` (a label). */
export function parseParameterRef(text: string): ParameterRef | { readonly problem: string } {
  const colon = text.indexOf(':');
  const name = colon < 0 ? text : text.slice(0, colon);
  const selector = colon < 0 ? undefined : text.slice(colon + 1);
  const problem = parameterNameProblem(name);
  if (problem) return { problem: `not a parameter name: ${problem}` };
  if (selector === undefined) return { name };
  if (!VERSION.test(selector) && (!LABEL.test(selector) || /^(aws|ssm)/i.test(selector))) {
    return { problem: `":${selector}" is neither a version (":3") nor a label (":stable")` };
  }
  return { name, selector };
}

/**
 * A path of the hierarchy (`/short-cut/prod/`), given with or without its final `/`, returned with it. The root
 * `/` is refused: it would read every parameter of the account and region.
 */
export function parseParameterPath(text: string): { readonly path: string } | { readonly problem: string } {
  if (!text.startsWith('/')) return { problem: 'a path begins with "/"' };
  const bare = text.endsWith('/') ? text.slice(0, -1) : text;
  if (bare === '') return { problem: 'the root "/" would read every parameter of the account; name a path below it' };
  const problem = parameterNameProblem(bare);
  if (problem) return { problem: `not a path: ${problem}` };
  return { path: `${bare}/` };
}

/** The last level of a name: the key a single parameter gets by default (`/a/b/DATABASE_URL` -> `DATABASE_URL`). */
export function lastLevel(name: string): string {
  return name.slice(name.lastIndexOf('/') + 1);
}

/**
 * The key of a parameter read under a path: its name relative to the path with `/` turned into `_`
 * (`/short-cut/prod/` and `/short-cut/prod/db/url` -> `db_url`). Undefined for a name outside the path.
 */
export function keyUnderPath(path: string, name: string): string | undefined {
  if (!name.startsWith(path) || name.length === path.length) return undefined;
  return name.slice(path.length).replaceAll('/', '_');
}

/**
 * The IAM resource of a parameter name (`parameter/` + the name without its leading `/`, as SSM builds the ARN).
 * For a path (ending in `/`), the ARN of the path itself.
 */
export function parameterArn(name: string, where: { partition: string; region: string; account: string }): string {
  const bare = name.replace(/^\//, '').replace(/\/$/, '');
  return `arn:${where.partition}:ssm:${where.region}:${where.account}:parameter/${bare}`;
}

function levels(name: string): number {
  return name.split('/').filter((s) => s !== '').length;
}
