// The commands other than `render`, one module that cli/main.ts imports on first use: in the bundle, one chunk for
// all four. Imported each on its own, they would split the modules they share with `render` (and each other) into
// more, smaller chunks, each one more file for `render` to load at a task start.
export { checkCommand } from './check-command.ts';
export { injectCommand } from './inject-command.ts';
export { policyCommand } from './policy-command.ts';
export { watchCommand } from './watch-command.ts';
