/**
 * The product's names, defined once: what the init container writes, where the app finds it, the tags the watcher
 * reads and writes, the names inject wires into a task definition. Init, watcher, ops and the CLI import them from
 * here; the files that cannot import (the entrypoint, the Dockerfiles, the manifests) spell them too, and tests keep
 * those equal to these.
 */

/** The name of the tool: its container, its image repository, its log lines, its tag prefix. */
export const PRODUCT = 'secrets-init';

/** Where the init container renders and the app reads (SECRETS_DIR). */
export const SECRETS_DIR = '/run/secrets';
/** The shell env file the entrypoint sources. */
export const ENV_FILE = 'app.env';
/** What was rendered (sources, versions, key names, digests), never a value. */
export const METADATA_FILE = 'render.json';
/** The GCP service-account key, written when the merged keys have GCP_JSON_KEY. */
export const GCP_FILE = 'gcp-credentials.json';
export const GCP_JSON_KEY = 'GOOGLE_APPLICATION_CREDENTIALS_JSON';
/** Points at GCP_FILE in app.env: a path, not a secret. */
export const GCP_PATH_VAR = 'GOOGLE_APPLICATION_CREDENTIALS';
/** Names a file mapping may not use: render writes them itself. */
export const RESERVED_FILE_NAMES: readonly string[] = Object.freeze([ENV_FILE, METADATA_FILE, GCP_FILE]);

/** Mode of the rendered files: the owner and the shared group read, nobody else. */
export const FILE_MODE = 0o440;
/** Mode of the output directory when render creates it, and of each set's directory: the group may traverse. */
export const DIR_MODE = 0o750;

/** A shell variable name: what a secret key must be to become a line of app.env. */
export const VARIABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** An output file name: flat, no dot files, no path separators. */
export const FILE_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;

/** Every tag key the product reads or writes starts with this. */
export const TAG_PREFIX = `${PRODUCT}/`;
/** The operator's binding on a service: the secrets it uses, space-separated (continued in `-2`, `-3`, ...). */
export const SECRETS_TAG = `${TAG_PREFIX}secrets`;
/** The watcher's state on a service. */
export const FINGERPRINT_TAG = `${TAG_PREFIX}fingerprint`;

/** The init container in a task definition, and the volume it shares with the app. */
export const INIT_CONTAINER = PRODUCT;
export const SECRETS_VOLUME = 'secrets';
/** Where the app image installs init/entrypoint.sh. */
export const ENTRYPOINT = '/usr/local/bin/secrets-entrypoint';
/** The init image's non-root user and the group it shares with the app (files are rendered FILE_MODE with it). */
export const INIT_USER = '65532:10001';

/** `0440` for a mode, as the environment and the config write it. */
export function formatMode(mode: number): string {
  return mode.toString(8).padStart(4, '0');
}
