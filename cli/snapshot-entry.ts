// The startup snapshot's entry: `node --snapshot-blob B --build-snapshot` runs it bundled as CommonJS
// (scripts/build-snapshot.mjs), and `node --snapshot-blob B -- ARGS` starts from the heap it leaves (the bench
// measures it beside the bundle; docs/performance.md). What it imports statically is evaluated at build time:
// the render command and the Secrets Manager client and source (the AWS SDK, whose evaluation is most of render's
// start-up). The other commands stay in the bundle, evaluated on first use.
//
// Build-time rule for every module evaluated here: nothing per run may be copied into module state (environment,
// argv, cwd, clock, pid, random values), and no timer, socket or worker may be started; built-ins that Node cannot
// serialise are replaced by stand-ins that load them on first use (scripts/build-snapshot.mjs). Node gives the
// deserialised process its own env, argv, cwd, pid, clock and random seed.
import { startupSnapshot } from 'node:v8';
import './render-command.ts';
import './secrets-manager-wiring.ts';
import { start } from './start.ts';

// Deserialised, argv is [node, ...args]: no script path (and `--` ends node's own options, so it is not there).
startupSnapshot.setDeserializeMainFunction(() => start(process.argv.slice(1)));
