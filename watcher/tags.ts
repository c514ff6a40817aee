/** Tag keys on ECS services: the operator's binding, and the watcher's only state. */
export const SECRETS_TAG = 'secrets-init/secrets';
export const FINGERPRINT_TAG = 'secrets-init/fingerprint';

/**
 * Parses the `secrets-init/secrets` tag value. Commas are the documented separator; whitespace is accepted too
 * because some tagging tools only allow `+ - = . _ : / @` and spaces in tag values (secret names hold no spaces).
 */
export function parseSecretsTag(value: string): string[] {
  return [...new Set(value.split(/[\s,]+/).filter((s) => s !== ''))];
}
