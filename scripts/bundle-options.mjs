// The esbuild options every bundle shares: the CLI as ESM (scripts/build.mjs, also used for the bench's SDK
// reference) and the startup snapshot's CommonJS script (scripts/build-snapshot.mjs).

/** Node 22 is the oldest Node the package supports (engines); dependencies' ESM builds are preferred. */
export const BUNDLE_OPTIONS = Object.freeze({
  bundle: true,
  platform: 'node',
  target: 'node22',
  mainFields: ['module', 'main'],
  minify: process.env.BUILD_NO_MINIFY !== '1',
  legalComments: 'none',
  logLevel: 'warning',
});
