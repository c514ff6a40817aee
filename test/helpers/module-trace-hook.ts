// Loaded with `node --import` into a CLI run (test/helpers/module-trace.ts): records the URL of every file module
// the run loads, ESM or CommonJS, and writes them, one a line, to MODULE_TRACE_TO when the process exits.
import { writeFileSync } from 'node:fs';
import { registerHooks } from 'node:module';

const to = process.env.MODULE_TRACE_TO;
const loaded: string[] = [];
registerHooks({
  load(url, context, nextLoad) {
    if (url.startsWith('file:')) loaded.push(url);
    return nextLoad(url, context);
  },
});
process.on('exit', () => {
  if (to) writeFileSync(to, loaded.map((u) => `${u}\n`).join(''));
});
