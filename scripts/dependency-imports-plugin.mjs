// How the split bundle treats a dependency's own dynamic imports: the AWS SDK's default credential chain imports
// each provider with import() (the shared ini files, a credential process, a web identity token, the container and
// instance metadata endpoints), its HTTP handler imports node:http so, and each import() is a chunk of its own in a
// split build, and the chunks they share more: for a render on ECS, which walks that chain to the task-role
// endpoint, about 20 more files to load, and twice as many in the image's layer (each chunk has its compile cache
// entry). This plugin turns such an import() into a require() that esbuild bundles lazily inside the importing
// chunk, evaluated on first use as in a one-file bundle: the build splits at the project's own import()s only.
import { readFile } from 'node:fs/promises';

// import("name") or import('name') with a literal specifier; anything else (a variable, a template) stays as it is.
const LITERAL_IMPORT = /\bimport\(\s*("[^"\n]+"|'[^'\n]+')\s*\)/g;

/** An esbuild plugin: in JavaScript files under node_modules, `import("x")` becomes `Promise.resolve().then(() => require("x"))`. */
export function dependencyImportsInChunk() {
  return {
    name: 'dependency-imports-in-chunk',
    setup(b) {
      b.onLoad({ filter: /[\\/]node_modules[\\/].*\.m?js$/ }, async (args) => {
        const source = await readFile(args.path, 'utf8');
        if (!source.includes('import(')) return undefined;
        return {
          contents: source.replace(LITERAL_IMPORT, (_, spec) => `Promise.resolve().then(() => require(${spec}))`),
          loader: 'js',
        };
      });
    },
  };
}
