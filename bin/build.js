// Compiles the gateway's TypeScript (gateway/, drivers/, simulators/) once into dist/<hash>/ with
// esbuild, file by file, keeping the tree (so paths built from import.meta.url, such as the
// dashboard's files and the built-in profiles, resolve the same way) and copying the other files
// beside them. `fcgw` then runs plain JavaScript: no TypeScript loader thread, no transpiling on
// every start (the tsx loader cost about 50 MB RSS and a second of start-up).
//
// The hash covers every source file's path, size and mtime (and this file's text), so an edit
// rebuilds on the next start and an unchanged tree costs one directory walk (a few ms). Builds go
// to a temporary directory renamed into place, so gateways started at the same moment never see
// half a build.
//
// `node bin/build.js` builds and prints the directory (the Dockerfile does this at image build time).
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { isDeepStrictEqual } from 'node:util';
import { setTimeout } from 'node:timers';
import vm from 'node:vm';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const SOURCES = ['gateway', 'drivers', 'simulators'];
// Builds other than the current one are removed once they are this old (a gateway started from
// an older build may still import a driver from it lazily).
const KEEP_OLD_MS = 24 * 3600_000;

function walk(dir, out) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) walk(path, out);
    else if (entry.isFile() && !entry.name.endsWith('.test.ts')) out.push(path);
  }
  return out;
}

function sourceFiles(root) {
  return SOURCES.flatMap((d) => walk(join(root, d), [])).sort();
}

/** The build's name: a hash of every source file's path, size and mtime, and of this file. */
export function sourceHash(root = ROOT, files = sourceFiles(root)) {
  const h = createHash('sha256');
  for (const f of [...files, join(root, 'tsconfig.json')]) {
    const s = statSync(f);
    h.update(`${relative(root, f)}\0${s.size}\0${s.mtimeMs}\n`);
  }
  // And this file: a change in how the build is made (or run, see loadBundle) makes a new one.
  h.update(readFileSync(fileURLToPath(import.meta.url)));
  return h.digest('hex').slice(0, 16);
}

/**
 * The directory of an up-to-date build of the sources under `root` (building it when missing).
 * Throws when it cannot build (no esbuild, a read-only tree): the caller falls back to the sources.
 */
export async function ensureBuilt(root = ROOT) {
  const files = sourceFiles(root);
  const hash = sourceHash(root, files);
  const distRoot = join(root, 'dist');
  const target = join(distRoot, hash);
  try {
    if (statSync(join(target, '.complete')).isFile()) return target;
  } catch {
    /* not built yet */
  }
  const { transform } = await import('esbuild');
  const tmp = join(distRoot, `.tmp-${hash}-${process.pid}-${Date.now()}`);
  mkdirSync(tmp, { recursive: true });
  try {
    const tsconfigRaw = JSON.parse(readFileSync(join(root, 'tsconfig.json'), 'utf8'));
    await Promise.all(
      files.map(async (file) => {
        const rel = relative(root, file);
        if (rel.endsWith('.d.ts')) return;
        if (!rel.endsWith('.ts')) {
          mkdirSync(dirname(join(tmp, rel)), { recursive: true });
          copyFileSync(file, join(tmp, rel));
          return;
        }
        const out = join(tmp, rel.replace(/\.ts$/, '.js'));
        const { code } = await transform(readFileSync(file, 'utf8'), { loader: 'ts', format: 'esm', target: 'node20', sourcefile: rel, tsconfigRaw });
        mkdirSync(dirname(out), { recursive: true });
        writeFileSync(out, code);
      }),
    );
    writeFileSync(join(tmp, 'package.json'), '{ "type": "module" }\n');
    await bundleCli(root, tmp, target, tsconfigRaw);
    await parseProfiles(tmp);
    writeFileSync(join(tmp, '.complete'), `${new Date().toISOString()}\n`);
    try {
      renameSync(tmp, target);
    } catch (err) {
      // Another process finished the same build first: use theirs.
      if (!statSync(join(target, '.complete'), { throwIfNoEntry: false })) throw err;
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  removeOldBuilds(distRoot, hash);
  return target;
}

/**
 * The CLI with everything it imports, the packages too, as one CommonJS file, which `fcgw` runs
 * through loadBundle() with V8's code cache: start-up neither resolves some 500 module files nor
 * compiles what the cache holds (an empty gateway answered /api/health in about half the time). It
 * sits two levels down (gateway/bundle/), where the compiled files sit; each source file's
 * import.meta.url is its compiled file's URL, so the paths built from it (the dashboard's files,
 * the built-in profiles, createRequire) resolve as they do from the compiled tree.
 *
 * Only the packages `fcgw start` loads as it starts are bundled (those reached from the CLI and
 * its start command without crossing an import(): a first esbuild pass finds them). The others
 * stay imports and requires from node_modules, loaded when used as before: a driver's library,
 * the broker, what the simulators use. So do packages with native code, and what a bundled
 * package requires only on a path the gateway does not take (fastify's JSON Schema compilers, its
 * inject()). Whitespace is minified (names are kept, for stack traces; `bundle/fcgw.cjs.map` maps
 * positions back to the sources), and the output is ASCII, so the source V8 keeps is a one-byte
 * string.
 */
export const BUNDLE_ENTRY = 'gateway/bundle/fcgw.cjs';
const NATIVE_PACKAGES = ['better-sqlite3', 'serialport', '@serialport/*'];
const UNUSED_LAZY_REQUIRES = ['@fastify/ajv-compiler', '@fastify/fast-json-stringify-compiler', 'light-my-request'];

async function bundleCli(root, build, target, tsconfigRaw) {
  if (!statSync(join(root, 'gateway/cli/index.ts'), { throwIfNoEntry: false })) return;
  const esbuild = await import('esbuild');
  const entry = join(root, 'gateway/cli/index.ts');
  const imported = new Set();
  const options = (bundled) => ({
    entryPoints: [entry],
    outfile: join(build, BUNDLE_ENTRY),
    bundle: true,
    format: 'cjs',
    platform: 'node',
    target: 'node20',
    external: [...NATIVE_PACKAGES, ...UNUSED_LAZY_REQUIRES],
    plugins: [compiledFiles(root, target, bundled, imported)],
    supported: { 'dynamic-import': true },
    minifyWhitespace: true,
    minifySyntax: true,
    charset: 'ascii',
    legalComments: 'none',
    tsconfigRaw,
    logLevel: 'silent',
  });
  // First pass: which packages `fcgw start` loads as it starts (reached from the CLI and its start
  // command without an import()).
  const probe = await esbuild.build({ ...options(undefined), write: false, metafile: true });
  const roots = [entry, join(root, 'gateway/cli/start.ts')].map((f) => relative(process.cwd(), f));
  imported.clear();
  const result = await esbuild.build({ ...options(staticPackages(probe.metafile, roots)), sourcemap: 'external' });
  // import() of a package left outside: through the loader's import (see loadBundle).
  const file = join(build, BUNDLE_ENTRY);
  let text = readFileSync(file, 'latin1');
  for (const spec of imported) {
    const call = `import(${JSON.stringify(spec)})`;
    if (!text.includes(call)) throw new Error(`bundle: no ${call} to route through the loader`);
    text = text.replaceAll(call, `${IMPORT_PARAM}(${JSON.stringify(spec)})`);
  }
  writeFileSync(file, text, 'latin1');
  writeFileSync(join(build, IMPORTER), '// import() as the bundle would make it from here (see loadBundle in bin/build.js).\nexport default (specifier) => import(specifier);\n');
  // A package's own import.meta (empty in CommonJS) would be a silent wrong path at run time.
  const meta = result.warnings.filter((w) => /import\.meta/.test(w.text));
  if (meta.length) throw new Error(`bundle: ${meta.map((w) => `${w.location?.file}: ${w.text}`).join('; ')}`);
}

/** The package a bare specifier names (`@scope/name/sub` → `@scope/name`, `name/sub` → `name`). */
function packageName(specifier) {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

/** The package a path in node_modules belongs to: the innermost (a nested copy is its own). */
function packageOf(path) {
  const p = path.replaceAll('\\', '/');
  const at = p.lastIndexOf('node_modules/');
  return at < 0 ? undefined : packageName(p.slice(at + 'node_modules/'.length));
}

/** The packages reached from `roots` through static imports and requires only (from a metafile). */
function staticPackages(metafile, roots) {
  const seen = new Set();
  const todo = roots.map((r) => r.replaceAll('\\', '/'));
  while (todo.length) {
    const path = todo.pop();
    if (seen.has(path) || !metafile.inputs[path]) continue;
    seen.add(path);
    for (const i of metafile.inputs[path].imports) if (i.kind !== 'dynamic-import' && !i.external) todo.push(i.path);
  }
  return new Set([...seen].map(packageOf).filter(Boolean));
}

/**
 * The bundle's view of the sources: each file's import.meta.url is its compiled file's URL (in the
 * build's final directory `build`), and a package outside `bundled` stays an import or require
 * from node_modules (without `bundled`, the first pass: a package imported with import()).
 */
function compiledFiles(root, build, bundled, imported) {
  return {
    name: 'compiled-files',
    setup(b) {
      b.onResolve({ filter: /^[^./]/ }, (args) => {
        if (args.path.startsWith('node:')) return undefined;
        const lazy = bundled ? !bundled.has(packageName(args.path)) : args.kind === 'dynamic-import';
        if (lazy && args.kind === 'dynamic-import') imported.add(args.path);
        return lazy ? { path: args.path, external: true } : undefined;
      });
      b.onLoad({ filter: /\.ts$/ }, (args) => {
        const rel = relative(root, args.path);
        if (rel.startsWith('..') || rel.split(sep)[0] === 'node_modules') return undefined;
        const compiled = join(build, rel.replace(/\.ts$/, '.js'));
        const text = readFileSync(args.path, 'utf8')
          .replaceAll('import.meta.url', JSON.stringify(pathToFileURL(compiled).href))
          .replaceAll('import.meta.dirname', JSON.stringify(dirname(compiled)))
          .replaceAll('import.meta.filename', JSON.stringify(compiled));
        if (/import\.meta\b/.test(text)) throw new Error(`${rel}: import.meta other than url, dirname, filename has no value in the bundle`);
        return { contents: text, loader: 'ts' };
      });
    },
  };
}

/**
 * The V8 code cache's file for this Node's version and architecture. V8 also refuses a cache made
 * under other V8 flags (then it is written again, see loadBundle).
 */
function codeCacheFile(bundle) {
  const key = createHash('sha256').update(`${process.version} ${process.arch}`).digest('hex').slice(0, 12);
  return join(dirname(bundle), `fcgw.${key}.codecache`);
}

/**
 * The bundle's own name for import(): a script run by vm has no import() of its own to offer. As
 * long as `import`, so the source map's columns still hold after the calls are renamed.
 */
const IMPORT_PARAM = '__fcgw';
const IMPORTER = 'gateway/bundle/import.mjs';

/**
 * Runs a build's bundle and returns its exports, with V8's code cache. Without a cache, or with
 * one V8 refused (another Node, a damaged file), the cache is written `cacheAfterMs` later, by
 * then holding the code start-up compiled; through a temporary file renamed into place, so
 * processes started together never read half a file. A tree that cannot be written simply runs
 * without one. The bundle's import() of a package left outside goes through a module beside it,
 * so the package resolves from where the bundle is.
 */
export async function loadBundle(dist, { cacheAfterMs = 5000 } = {}) {
  const file = join(dist, BUNDLE_ENTRY);
  const cacheFile = codeCacheFile(file);
  let cachedData;
  try {
    cachedData = readFileSync(cacheFile);
  } catch {
    /* none yet */
  }
  const wrapped = `(function (exports, require, module, __filename, __dirname, ${IMPORT_PARAM}) {${readFileSync(file, 'latin1')}\n})`;
  const script = new vm.Script(wrapped, { filename: file, cachedData });
  const codeCache = cachedData === undefined ? 'absent' : script.cachedDataRejected ? 'rejected' : 'accepted';
  const { default: importer } = await import(pathToFileURL(join(dist, IMPORTER)).href);
  const module = { exports: {} };
  script.runInThisContext()(module.exports, createRequire(file), module, file, dirname(file), importer);
  if (codeCache !== 'accepted') {
    setTimeout(() => {
      const tmp = `${cacheFile}.${process.pid}.tmp`;
      try {
        writeFileSync(tmp, script.createCachedData());
        renameSync(tmp, cacheFile);
      } catch {
        rmSync(tmp, { force: true });
      }
    }, cacheAfterMs).unref();
  }
  return { exports: module.exports, codeCache };
}

/**
 * The built-in profiles parsed once, at build time, with the build's own parser (YAML parsing was
 * most of a gateway's start-up): gateway/site/profiles.ts reads PARSED_PROFILES and uses a file's
 * value while its text has the same hash. A file with a YAML problem, or a value JSON cannot
 * carry exactly, is left out (parsed, and reported, at start).
 */
async function parseProfiles(build) {
  if (!statSync(join(build, 'gateway/site/profiles.js'), { throwIfNoEntry: false })) return;
  const { PARSED_PROFILES, PROFILE_DIR, sha256 } = await import(pathToFileURL(join(build, 'gateway/site/profiles.js')).href);
  const { parseYaml } = await import(pathToFileURL(join(build, 'gateway/config/load.js')).href);
  const out = {};
  for (const f of readdirSync(PROFILE_DIR).filter((n) => n.endsWith('.yaml') || n.endsWith('.yml')).sort()) {
    const text = readFileSync(join(PROFILE_DIR, f), 'utf8');
    const y = parseYaml(text);
    if (y.problems.length || !isDeepStrictEqual(JSON.parse(JSON.stringify(y.value) ?? 'null'), y.value)) continue;
    out[f] = { sha256: sha256(text), value: y.value };
  }
  writeFileSync(join(PROFILE_DIR, PARSED_PROFILES), JSON.stringify(out));
}

function removeOldBuilds(distRoot, keep) {
  const now = Date.now();
  for (const name of readdirSync(distRoot)) {
    if (name === keep) continue;
    const path = join(distRoot, name);
    try {
      if (now - statSync(path).mtimeMs > KEEP_OLD_MS) rmSync(path, { recursive: true, force: true });
    } catch {
      /* removed by another process */
    }
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  process.stdout.write(`${await ensureBuilt()}\n`);
}
