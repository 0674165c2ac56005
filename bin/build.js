// Compiles the gateway's TypeScript (gateway/, drivers/, simulators/) once into dist/<hash>/ with
// esbuild, file by file, keeping the tree (so paths built from import.meta.url, such as the
// dashboard's files and the built-in profiles, resolve the same way) and copying the other files
// beside them. `fcgw` then runs plain JavaScript: no TypeScript loader thread, no transpiling on
// every start (the tsx loader cost about 50 MB RSS and a second of start-up).
//
// The hash covers every source file's path, size and mtime, so an edit rebuilds on the next start
// and an unchanged tree costs one directory walk (a few ms). Builds go to a temporary directory
// renamed into place, so gateways started at the same moment never see half a build.
//
// `node bin/build.js` builds and prints the directory (the Dockerfile does this at image build time).
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { isDeepStrictEqual } from 'node:util';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const SOURCES = ['gateway', 'drivers', 'simulators'];
// Bump when the way files are compiled changes, so old builds are not reused.
const FORMAT = 3;
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

/** The build's name: a hash of every source file's path, size and mtime (and of how it is built). */
export function sourceHash(root = ROOT, files = sourceFiles(root)) {
  const h = createHash('sha256').update(`format ${FORMAT}\n`);
  for (const f of [...files, join(root, 'tsconfig.json')]) {
    const s = statSync(f);
    h.update(`${relative(root, f)}\0${s.size}\0${s.mtimeMs}\n`);
  }
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
    await bundleCli(root, tmp, tsconfigRaw);
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
 * The CLI and everything it imports as one ES module bundle, split at dynamic imports (a driver,
 * the broker, a command load as chunks when used, as before): `fcgw` starts from it, so start-up
 * opens and compiles a few files instead of some 350 (module loading was over a third of an empty
 * gateway's start). Packages stay outside, resolved from node_modules as before. The bundle sits
 * two levels down (gateway/bundle/), where the compiled files sit, so the paths the sources build
 * from import.meta.url (the dashboard's files, the built-in profiles) resolve the same way.
 */
export const BUNDLE_ENTRY = 'gateway/bundle/index.js';

async function bundleCli(root, build, tsconfigRaw) {
  if (!statSync(join(root, 'gateway/cli/index.ts'), { throwIfNoEntry: false })) return;
  const esbuild = await import('esbuild');
  await esbuild.build({
    entryPoints: { index: join(root, 'gateway/cli/index.ts') },
    outdir: join(build, dirname(BUNDLE_ENTRY)),
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    packages: 'external',
    chunkNames: 'chunk-[hash]',
    tsconfigRaw,
    logLevel: 'silent',
  });
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
