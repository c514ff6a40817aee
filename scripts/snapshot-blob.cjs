// node scripts/snapshot-blob.cjs SCRIPT BLOB: writes the startup snapshot BLOB from SCRIPT (the bundle of
// cli/snapshot-entry.ts) with this Node binary, read-only, and checks that it starts. Plain CommonJS with no
// dependency, so that a distroless stage (no npm) runs it, as Dockerfile.init's init-snapshot target does: Node
// loads a blob only in the binary that wrote it (it checks version, architecture and platform, and nothing vouches
// for another build).
'use strict';
const { spawnSync } = require('node:child_process');
const { chmodSync, mkdirSync, rmSync, statSync } = require('node:fs');
const { dirname } = require('node:path');

const [script, blob] = process.argv.slice(2);
if (!script || !blob) fail('usage: node scripts/snapshot-blob.cjs SCRIPT BLOB');

mkdirSync(dirname(blob), { recursive: true });
rmSync(blob, { force: true });
const built = spawnSync(process.execPath, ['--snapshot-blob', blob, '--build-snapshot', script], {
  stdio: ['ignore', 'inherit', 'pipe'],
  encoding: 'utf8',
});
process.stderr.write(built.stderr);
if (built.status !== 0) fail(`writing ${blob} failed (${built.status ?? built.signal})`);
// A built-in Node has not verified for snapshots was loaded at build time: its state in the blob may be stale or
// broken after deserialisation. Defer it (scripts/build-snapshot.mjs) rather than ship it.
if (/not yet fully verified/.test(built.stderr)) {
  rmSync(blob, { force: true });
  fail(`${blob}: an unverified built-in was loaded at build time (see the warning above)`);
}
chmodSync(blob, 0o444);

// It starts, and `--` leaves the CLI's own flags to it.
const probe = spawnSync(process.execPath, ['--snapshot-blob', blob, '--', '--help'], { encoding: 'utf8' });
if (probe.status !== 0 || !probe.stdout.startsWith('Usage: secrets-init')) {
  fail(`${blob} does not start: exit ${probe.status ?? probe.signal}: ${probe.stderr.trim().split('\n').pop()}`);
}
console.log(`${blob} ${(statSync(blob).size / 2 ** 20).toFixed(1)} MiB`);

function fail(message) {
  process.stderr.write(`snapshot-blob: ${message}\n`);
  process.exit(1);
}
