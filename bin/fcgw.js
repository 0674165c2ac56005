#!/usr/bin/env node
// Runs the gateway as plain JavaScript compiled once from the TypeScript sources (bin/build.js,
// into the gitignored dist/; rebuilt on the first start after a source changes). FCGW_SOURCES=1
// runs the sources through the tsx loader instead, as does a tree where dist/ cannot be written.

async function loadMain() {
  if (process.env.FCGW_SOURCES !== '1') {
    try {
      const { ensureBuilt, loadBundle } = await import('./build.js');
      return (await loadBundle(await ensureBuilt())).exports.main;
    } catch (err) {
      process.stderr.write(`fcgw: running the TypeScript sources (no compiled build: ${err.message})\n`);
    }
  }
  const { register } = await import('tsx/esm/api');
  register();
  return (await import('../gateway/cli/index.ts')).main;
}

const main = await loadMain();
process.exitCode = await main(process.argv.slice(2));
