// How the bundles load Node's built-ins: through require() where the bundle's code first needs them, never as
// hoisted ESM imports, and, in the startup snapshot, not at all at build time for the built-ins Node cannot snapshot.
import { createRequire, isBuiltin } from 'node:module';
import { relative } from 'node:path';

const require = createRequire(import.meta.url);

// `import` and `import()` of a built-in: a hoisted ESM import loads it at start even when unused, and
// `import('node:http')` (the SDK's HTTP handler does this) builds an ESM facade that reads every export, and
// node:http's lazy getters then load undici (~20 ms). A require() reads nothing it is not asked for.
const IMPORT_KINDS = new Set(['import-statement', 'dynamic-import']);

const bare = (path) => path.replace(/^node:/, '');

/**
 * An esbuild plugin: built-ins imported by the bundle's code become `require()` inside the (lazy) module that
 * imports them. `keepImportsOf`: importers whose ESM imports stay as they are (the entry's own). `defer(name)`:
 * built-ins replaced by a stand-in object whose properties load the real module on first read, at run time; the
 * startup snapshot defers those that Node's snapshot builder cannot serialise.
 */
export function builtinsAsRequire({ keepImportsOf, defer = () => false } = {}) {
  return {
    name: 'builtins-as-require',
    setup(b) {
      b.onResolve({ filter: /^(node:)?[a-z_][a-z0-9_/]*$/ }, (args) => {
        if (!isBuiltin(args.path)) return undefined;
        const name = bare(args.path);
        // The require() inside the modules this plugin writes is the real one.
        if (args.namespace !== 'file') return { path: `node:${name}`, external: true };
        if (defer(name)) return { path: name, namespace: 'deferred-builtin' };
        if (!IMPORT_KINDS.has(args.kind) || keepImportsOf?.test(args.importer)) return undefined;
        // One wrapper per importer (the suffix keeps them apart): a wrapper shared by modules of several chunks would
        // be a chunk of its own in a split build, one more file to load for a line of code.
        return { path: name, namespace: 'builtin', suffix: `?${relative(process.cwd(), args.importer)}` };
      });
      b.onLoad({ filter: /.*/, namespace: 'builtin' }, (args) => ({
        contents: `module.exports = require(${JSON.stringify(`node:${args.path}`)});`,
        loader: 'js',
      }));
      b.onLoad({ filter: /.*/, namespace: 'deferred-builtin' }, (args) => {
        const id = JSON.stringify(`node:${args.path}`);
        // The module's export names, read here (by the building Node, same major as the image's).
        const getters = Object.keys(require(`node:${args.path}`))
          .filter((k) => k !== 'default')
          .map((k) => `  ${JSON.stringify(k)}: { get: () => load()[${JSON.stringify(k)}], enumerable: true },`);
        return {
          contents: `let real;\nconst load = () => (real ??= require(${id}));\nmodule.exports = Object.defineProperties({}, {\n${getters.join('\n')}\n});\n`,
          loader: 'js',
        };
      });
    },
  };
}
