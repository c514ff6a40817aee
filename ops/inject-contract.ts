/**
 * What inject adds to the product's names (shared/contract.ts) when it wires a task definition: the init container's
 * command and memory, and which environment names are the tool's own. `lintTaskDefinition` checks the same.
 */
export const INIT_COMMAND = Object.freeze(['render']);
/** Memory limit of the init container in task definitions without task-level memory (EC2). */
export const INIT_MEMORY_MIB = 256;

/** Environment variables of the tool itself: their names mention secrets, their values are not secrets. */
export const TOOL_VARIABLES = Object.freeze([
  'SECRET_NAME',
  'SECRETS_DIR',
  'SECRETS_REQUIRED',
  'SECRETS_CONFIG',
  'SECRETS_FILE_MODE',
  'SECRETS_FILE_OWNER',
  'SECRETS_OPTIONAL',
  // a path to the key file that render writes, not a secret
  'GOOGLE_APPLICATION_CREDENTIALS',
]);

/** Names that say "I hold a secret" when they end a variable name (`OPENAI_API_KEY`, `DB_PASSWORD`, `X_TOKEN`). */
const SECRET_LOOKING =
  /(^|_)(SECRET|SECRET_KEY|PASSWORD|PASSWD|PASSPHRASE|TOKEN|API_?KEY|ACCESS_KEY|PRIVATE_KEY|CREDENTIALS?)(_(JSON|B64|BASE64))?$/i;

/** True when a plain `environment` entry with this name probably carries a secret value. */
export function looksSecret(name: string, requiredKeys: readonly string[] = []): boolean {
  if (TOOL_VARIABLES.includes(name)) return false;
  return requiredKeys.includes(name) || SECRET_LOOKING.test(name);
}
