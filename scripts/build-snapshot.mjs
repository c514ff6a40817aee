// Builds the CLI's V8 startup snapshot. `npm run build` writes it and the bench measures it beside the shipped
// bundle; the init image does not ship it (its layer costs more to unpack at a Fargate task start than it saves:
// docs/performance.md).
//   1. dist/secrets-init-snapshot.cjs: cli/snapshot-entry.ts bundled as CommonJS (`--build-snapshot` runs a
//      script, not an ES module, and its require() loads built-ins only, so everything else is in the bundle);
//   2. dist/secrets-init.blob: written by scripts/snapshot-blob.cjs with the Node running this script (a blob only
//      loads in the Node binary that wrote it: Dockerfile.init's init-snapshot target writes it in the image, with
//      --no-blob here).
import { spawnSync } from 'node:child_process';
import { mkdirSync, statSync } from 'node:fs';
import { build } from 'esbuild';
import { builtinsAsRequire } from './builtins-plugin.mjs';
import { BUNDLE_OPTIONS } from './bundle-options.mjs';

const SCRIPT = process.env.SNAPSHOT_SCRIPT ?? 'dist/secrets-init-snapshot.cjs';
const BLOB = process.env.SNAPSHOT_BLOB ?? 'dist/secrets-init.blob';

// The built-ins Node 24 has verified for user snapshots (lib/internal/main/mksnapshot.js, `supportedModules`).
// Any other is deferred: `node:http` at build time is the "global handle not serialized" crash (its HTTPParser
// binding), `node:tls` an "Unknown external reference". scripts/snapshot-blob.cjs fails the build if one is
// loaded anyway (Node's "not yet fully verified" warning), e.g. by a module that reads a property at top level.
const VERIFIED = new Set([
  ...['_stream_duplex', '_stream_passthrough', '_stream_readable', '_stream_transform', '_stream_wrap'],
  ...['_stream_writable', 'assert', 'assert/strict', 'buffer', 'console', 'constants', 'crypto'],
  ...['diagnostics_channel', 'dns', 'events', 'fs', 'fs/promises', 'net', 'os', 'path', 'path/posix'],
  ...['path/win32', 'process', 'punycode', 'querystring', 'stream', 'stream/promises', 'string_decoder', 'sys'],
  ...['timers', 'timers/promises', 'url', 'util', 'util/types', 'v8', 'zlib'],
]);

// pino evaluates its transport support at load (`require('./transport')` pulls in thread-stream and
// `require('module')`; `const { isMainThread } = require('worker_threads')` reads the module at once). The CLI logs
// to a stream and never starts a transport, so the snapshot leaves transports out: a transport option would throw.
const pinoWithoutTransports = {
  name: 'pino-without-transports',
  setup(b) {
    b.onResolve({ filter: /^(\.\/transport|\.\/lib\/transport|worker_threads)$/ }, (args) =>
      /[\\/]pino[\\/](lib[\\/]tools|pino)\.js$/.test(args.importer)
        ? { path: args.path, namespace: 'pino-stub' }
        : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'pino-stub' }, (args) => ({
      contents:
        args.path === 'worker_threads'
          ? 'module.exports = { isMainThread: true };'
          : "module.exports = () => { throw new Error('pino transports are not in the startup snapshot'); };",
      loader: 'js',
    }));
  },
};

mkdirSync('dist', { recursive: true });
await build({
  ...BUNDLE_OPTIONS,
  entryPoints: ['cli/snapshot-entry.ts'],
  outfile: SCRIPT,
  format: 'cjs',
  plugins: [pinoWithoutTransports, builtinsAsRequire({ defer: (name) => !VERIFIED.has(name) })],
});
console.log(`${SCRIPT} ${(statSync(SCRIPT).size / 1024).toFixed(0)} KiB`);

if (!process.argv.includes('--no-blob')) {
  const res = spawnSync(process.execPath, ['scripts/snapshot-blob.cjs', SCRIPT, BLOB], { stdio: 'inherit' });
  if (res.status !== 0) process.exit(res.status ?? 1);
}
