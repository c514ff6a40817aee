import { parameterNameProblem, parseParameterPath } from './parameter-name.ts';

/**
 * What a watch binding names (`spec.watch.clusters[].services[].secrets`, the `secrets-init/secrets` tags), one id
 * each, as written:
 * - a secret: its name or ARN (`short-cut/prod/app`, `arn:aws:secretsmanager:...`);
 * - a parameter: `ssm:` and its name (`ssm:/short-cut/prod/DATABASE_URL`, `ssm:DATABASE_URL`);
 * - a path: `ssm:` and the path with its final `/` (`ssm:/short-cut/prod/`): every parameter under it, recursively.
 * `ssm:` cannot begin a secret id (Secrets Manager names have no `:`, ARNs begin with `arn:`), and every character
 * of these ids fits an ECS tag value (letters, digits and `_ . : / = + - @`).
 */
export const PARAMETER_ID_PREFIX = 'ssm:';

export type BindingId =
  | { readonly kind: 'secret'; readonly id: string }
  | { readonly kind: 'parameter'; readonly id: string; readonly name: string }
  | { readonly kind: 'path'; readonly id: string; readonly path: string };

/** What an id names, or why it names nothing the watcher can read (the binding is then unusable). */
export function parseBindingId(id: string): BindingId | { readonly problem: string } {
  if (id.startsWith(PARAMETER_ID_PREFIX)) {
    const rest = id.slice(PARAMETER_ID_PREFIX.length);
    if (rest.endsWith('/')) {
      const parsed = parseParameterPath(rest);
      return 'problem' in parsed ? { problem: `"${id}": ${parsed.problem}` } : { kind: 'path', id, path: parsed.path };
    }
    if (rest.includes(':')) {
      return { problem: `"${id}": a pinned version never changes; bind the parameter by its name alone` };
    }
    const problem = parameterNameProblem(rest);
    return problem ? { problem: `"${id}" is not a parameter name: ${problem}` } : { kind: 'parameter', id, name: rest };
  }
  if (/^arn:[^:]*:ssm:/.test(id)) {
    return { problem: `"${id}" is a parameter ARN; bind a parameter as ssm:NAME (and a path as ssm:/PATH/)` };
  }
  if (id.includes(':') && !id.startsWith('arn:')) {
    return { problem: `"${id}" is neither a secret name (no ":"), a secret ARN, nor ssm:NAME or ssm:/PATH/` };
  }
  return { kind: 'secret', id };
}

/** True for the ids the watcher reads from Parameter Store (`ssm:NAME`, `ssm:/PATH/`), false for secrets. */
export function isParameterId(id: string): boolean {
  return id.startsWith(PARAMETER_ID_PREFIX);
}
