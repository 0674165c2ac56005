import Database from 'better-sqlite3';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * `npm audit` is refused by the registry reachable here (see the README for running it where it
 * works), so CI checks the installed versions of the packages that face the network against the
 * advisories we know of. Each entry was found in a public source named beside it; a range is
 * what that source states (when it names only the fixed release, everything below it).
 * Add an entry when a new advisory is published; a failure here means: upgrade the package.
 */
interface Advisory {
  pkg: string;
  id: string;
  what: string;
  /** semver-style: space-separated comparators are ANDed, `||` separates alternatives. */
  affected: string;
  fixed: string;
  source: string;
}

export const ADVISORIES: Advisory[] = [
  {
    pkg: 'fastify',
    id: 'GHSA-mg2h-6x62-wpwc (CVE-2025-32442)',
    what: 'invalid Content-Type parsing could lead to body validation bypass',
    affected: '<4.29.1 || >=5.0.0 <5.3.2',
    fixed: '5.3.2',
    source: 'github.com/opendatahub-io/odh-dashboard/pull/9295 (4.29.0 and earlier, 5.0.0-5.3.1); github.com/nodeshift/faas-js-runtime/pull/421 (5.3.1 fix incomplete)',
  },
  {
    pkg: 'fastify',
    id: 'GHSA-jx2c-rxcm-jvmq (CVE-2026-25223)',
    what: 'a tab in Content-Type allows body validation bypass',
    affected: '<5.7.2',
    fixed: '5.7.2',
    source: 'github.com/NapGram/NapGram/pull/105; github.com/loureng/gitorch/issues/71',
  },
  {
    pkg: 'fastify',
    id: 'GHSA-444r-cwp2-x5xf (CVE-2026-3635)',
    what: 'request.protocol and request.host spoofable via X-Forwarded-Proto/Host from untrusted connections',
    affected: '<=5.8.2',
    fixed: '5.8.3',
    source: 'github.com/loureng/gitorch/issues/91 (fastify <= 5.8.2, fixed in 5.8.3)',
  },
  {
    pkg: 'fastify',
    id: 'GHSA-mrq3-vjjr-p77c (CVE-2026-25224)',
    what: 'DoS via unbounded memory allocation in sendWebStream',
    affected: '<5.8.3',
    fixed: '5.8.3',
    source: 'github.com/kiegroup/kogito-examples/pull/132 (5.8.3 fixes it; first fixed release not stated, so bounded there)',
  },
  {
    pkg: 'mqtt-packet',
    id: 'CVE-2019-5432 (NSWG-ECO-500)',
    what: 'a malformed SUBSCRIBE packet crashes brokers that decode with mqtt-packet (buffer over-read)',
    affected: '<5.6.1',
    fixed: '5.6.1',
    source: 'github.com/nodejs/security-wg/pull/524; github.com/node-red/node-red/issues/2181 (fixed in 5.6.1)',
  },
  {
    pkg: 'aedes',
    id: 'CVE-2024-48080',
    what: 'DoS by a crafted request (validateTopic); disputed by the vendor',
    affected: '<=0.51.2',
    fixed: '0.51.3',
    source: 'cvetodo.com/cve/CVE-2024-48080 (aedes v0.51.2)',
  },
  {
    pkg: 'node-opcua',
    id: 'CVE-2022-21208',
    what: 'DoS: no limit on received message chunks per session',
    affected: '<2.74.0',
    fixed: '2.74.0',
    source: 'clouddefense.ai/cve/2022/CVE-2022-21208 (node-opcua before 2.74.0)',
  },
  {
    pkg: 'mqtt',
    id: 'CVE-2017-10910',
    what: 'DoS in handling PUBLISH packets (MQTT.js 2.x)',
    affected: '<2.15.0',
    fixed: '2.15.0',
    source: 'github.com/aws/aws-iot-device-sdk-js/pull/176',
  },
  {
    pkg: 'better-sqlite3',
    id: 'Magellan (SQLite < 3.26.0)',
    what: 'remote code execution in SQLite through crafted SQL',
    affected: '<5.2.0',
    fixed: '5.2.0',
    source: 'github.com/WiseLibs/better-sqlite3/issues/210 (fixed in 5.2.0)',
  },
];

/** SQLite itself, as bundled by better-sqlite3 (its own advisories name SQLite versions). */
const SQLITE_ADVISORIES = [
  { id: 'CVE-2022-35737', what: 'sqlite3_mprintf overflow, used in better-sqlite3 error paths', affected: '<3.39.2', source: 'github.com/WiseLibs/better-sqlite3/issues/895' },
];

const ROOT = join(import.meta.dirname, '../../..');
/** The packages whose versions are checked; @fastify/* ones too, when installed. */
const PACKAGES = ['fastify', 'aedes', 'mqtt-packet', 'node-opcua', 'better-sqlite3', 'mqtt'];

function installed(pkg: string): string | undefined {
  const file = join(ROOT, 'node_modules', pkg, 'package.json');
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version : undefined;
}

type Triple = [number, number, number];
function parseVersion(v: string): Triple {
  const m = /^v?(\d+)\.(\d+)\.(\d+)/.exec(v.trim());
  if (!m) throw new Error(`not a version: ${v}`);
  return [Number(m[1]), Number(m[2]), Number(m[3])];
}
function compare(a: Triple, b: Triple): number {
  return a[0] - b[0] || a[1] - b[1] || a[2] - b[2];
}

/** A small semver range check: `<`, `<=`, `>`, `>=`, `=` comparators, ANDed by spaces, `||` alternatives. Pre-releases count as their release. */
export function satisfies(version: string, range: string): boolean {
  const v = parseVersion(version);
  return range.split('||').some((alt) =>
    alt
      .trim()
      .split(/\s+/)
      .every((c) => {
        const m = /^(<=|>=|<|>|=)?(.+)$/.exec(c);
        if (!m) throw new Error(`bad comparator ${c}`);
        const d = compare(v, parseVersion(m[2] as string));
        switch (m[1] ?? '=') {
          case '<':
            return d < 0;
          case '<=':
            return d <= 0;
          case '>':
            return d > 0;
          case '>=':
            return d >= 0;
          default:
            return d === 0;
        }
      }),
  );
}

describe('installed versions against known advisories', () => {
  it('the range check itself', () => {
    expect(satisfies('5.3.1', '<4.29.1 || >=5.0.0 <5.3.2')).toBe(true);
    expect(satisfies('4.29.0', '<4.29.1 || >=5.0.0 <5.3.2')).toBe(true);
    expect(satisfies('4.29.1', '<4.29.1 || >=5.0.0 <5.3.2')).toBe(false);
    expect(satisfies('5.3.2', '<4.29.1 || >=5.0.0 <5.3.2')).toBe(false);
    expect(satisfies('5.8.2', '<=5.8.2')).toBe(true);
    expect(satisfies('10.0.0', '<9.10.0')).toBe(false);
    expect(satisfies('2.74.0-alpha.1', '<2.74.0')).toBe(false);
  });

  it('every advisory names its source, and its fixed version is outside its range', () => {
    for (const a of ADVISORIES) {
      expect(a.source.length, a.id).toBeGreaterThan(10);
      expect(satisfies(a.fixed, a.affected), `${a.pkg} ${a.id}`).toBe(false);
    }
  });

  it.each(PACKAGES)('%s is not in an advisory range', (pkg) => {
    const version = installed(pkg);
    expect(version, `${pkg} is not installed`).toBeDefined();
    const hits = ADVISORIES.filter((a) => a.pkg === pkg && satisfies(version as string, a.affected));
    expect(hits.map((a) => `${pkg}@${version}: ${a.id} ${a.what} (fixed in ${a.fixed}; ${a.source})`)).toEqual([]);
  });

  it('@fastify/* packages, when present, have no recorded advisory in range', () => {
    const present = ['@fastify/ajv-compiler', '@fastify/error', '@fastify/fast-json-stringify-compiler', '@fastify/forwarded', '@fastify/proxy-addr', '@fastify/merge-json-schemas', '@fastify/static', '@fastify/websocket'].filter((p) => installed(p));
    const hits = ADVISORIES.filter((a) => present.includes(a.pkg) && satisfies(installed(a.pkg) as string, a.affected));
    expect(hits).toEqual([]);
  });

  it('the SQLite better-sqlite3 bundles', () => {
    const db = new Database(':memory:');
    const { v } = db.prepare('SELECT sqlite_version() AS v').get() as { v: string };
    db.close();
    expect(SQLITE_ADVISORIES.filter((a) => satisfies(v, a.affected)).map((a) => `SQLite ${v}: ${a.id} ${a.what} (${a.source})`)).toEqual([]);
  });
});
