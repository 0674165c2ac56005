import type { DriverCheckInput, DriverFactory, DriverProblem } from '../../drivers/core/driver.js';
import type { ProfileProblem } from './profiles.js';
import type { Profile } from '../../drivers/profiles/schema.js';
import { dotted, deepFreeze, zodProblems, type ConfigProblem, type ParsedYaml } from '../config/load.js';
import { crossSectionProblems, type ConnectionConfig, type GatewayConfig } from '../config/schema.js';
import { didYouMean } from '../model/suggest.js';
import { CATALOG } from '../model/catalog.js';
import { checkSinks } from '../sinks/checks.js';
import { controlProblems } from '../control/checks.js';
import { seriesFacts } from './facts.js';
import type { ResolvedConnection, ResolvedDevice, ResolvedRule, ResolvedSite } from './types.js';

export interface SiteInput {
  /** The config as the config schema parsed it (connections not yet parsed by their drivers). */
  config: Readonly<GatewayConfig>;
  /** Every loaded profile, and the problems of those that did not load (gateway/site/load.ts). */
  profiles: ReadonlyMap<string, Profile>;
  profileProblems: readonly ProfileProblem[];
  /** The registered drivers (drivers/index.ts). */
  drivers: readonly DriverFactory[];
  /** Where a config path is in the YAML; absent for a config built in code. */
  lineOf?: ParsedYaml['lineOf'];
}

/** `warnings`: what is allowed but worth saying (a user profile replacing a built-in one), with file and line. */
export type SiteResult = ({ ok: true; site: ResolvedSite } | { ok: false; problems: ConfigProblem[] }) & { warnings?: ConfigProblem[] };

type Path = (string | number)[];
type Bound = DriverCheckInput<ConnectionConfig, Profile>;

/**
 * The one validation: a parsed config, the loaded profiles and the registered drivers become a
 * resolved site (every device with its profile, driver and series facts) or every problem found,
 * each with its path, YAML line and, where it helps, a did-you-mean. `fcgw check-config`, start
 * and every reload call this and only this. Protocol knowledge comes from the drivers: each
 * parses its own connections and checks its own devices, discovery rules and profiles; sinks
 * check theirs. Pure: no I/O.
 */
export function resolveSite(input: SiteInput): SiteResult {
  const { config, profiles, drivers } = input;
  const problems: ConfigProblem[] = [];
  const at = (path: Path, message: string) => problems.push({ path: dotted(path), line: input.lineOf?.(path), message });
  const protocols = drivers.flatMap((d) => [...d.protocols]);
  for (const p of crossSectionProblems(config)) at(p.path, p.message);

  // Connections: each parsed by the schema of the driver that speaks its protocol.
  const connections = new Map<string, ResolvedConnection & { index: number }>();
  const parsed: ConnectionConfig[] = [];
  config.connections.forEach((raw, i) => {
    const driver = drivers.find((d) => d.protocols.includes(raw.protocol));
    if (!driver) {
      at(['connections', i, 'protocol'], `no driver for protocol "${raw.protocol}" in this build${didYouMean(raw.protocol, protocols)} (known: ${protocols.join(', ')})`);
      return;
    }
    const res = driver.connectionSchema.safeParse(raw);
    if (!res.success) {
      const issues = res.error.issues.map((iss) => ({ ...iss, path: ['connections', i, ...iss.path] }));
      problems.push(...zodProblems(issues, input.lineOf ?? (() => undefined)));
      return;
    }
    parsed.push(res.data);
    if (!connections.has(res.data.id)) connections.set(res.data.id, { config: res.data, driver, index: i });
  });

  // Profiles a device or rule needs that did not load: their own problems, in their own files.
  const named = new Set([...config.devices.map((d) => d.profile), ...config.discover.map((r) => r.profile)]);
  const broken = new Set<string>();
  for (const p of input.profileProblems) {
    const stem = p.file.replace(/^.*\//, '').replace(/\.ya?ml$/, '');
    if (!named.has(stem)) continue;
    broken.add(stem);
    problems.push({ file: p.file, path: p.path, line: p.line, message: p.message });
  }

  /** The profile a device or rule names, for the connection's driver and the class it claims. */
  const bind = (path: Path, name: string, cls: string, conn: ResolvedConnection | undefined): Profile | undefined => {
    const profile = profiles.get(name);
    if (!profile) {
      if (!broken.has(name)) at([...path, 'profile'], `no profile "${name}"${didYouMean(name, profiles.keys())}`);
      return undefined;
    }
    if (conn && profile.protocol !== conn.driver.profileProtocol) {
      at([...path, 'profile'], `profile "${name}" is a ${profile.protocol} profile; connection "${conn.config.id}" speaks ${conn.config.protocol}`);
      return undefined;
    }
    // An unknown class is the config's own problem (crossSectionProblems says so, once).
    if (CATALOG[cls] && !profile.classes.includes(cls)) {
      at([...path, 'class'], `profile "${name}" serves ${profile.classes.join(', ')}, not ${cls}`);
      return undefined;
    }
    return CATALOG[cls] ? profile : undefined;
  };

  const devices = new Map<string, ResolvedDevice>();
  /** What each driver's `check` sees: its devices and rules that resolved. */
  const perDriver = new Map<DriverFactory, { devices: Bound['devices'][number][]; discover: Bound['discover'][number][] }>();
  const slot = (d: DriverFactory) => {
    let s = perDriver.get(d);
    if (!s) perDriver.set(d, (s = { devices: [], discover: [] }));
    return s;
  };

  config.devices.forEach((d, i) => {
    const conn = connections.get(d.connection);
    const profile = bind(['devices', i], d.profile, d.class, conn);
    if (!profile || !conn) return;
    const { series, problems: optionProblems } = seriesFacts(d, conn.driver.pointFacts?.(profile, d.class) ?? new Map());
    for (const p of optionProblems) at(['devices', i, 'options', p.key], p.message);
    slot(conn.driver).devices.push({ index: i, config: d, profile, connection: conn.config });
    if (!devices.has(d.id)) devices.set(d.id, { config: d, profile, driver: conn.driver, series });
  });

  const discover: ResolvedRule[] = [];
  config.discover.forEach((r, i) => {
    const conn = connections.get(r.connection);
    if (conn && !conn.driver.discovers) {
      at(['discover', i, 'connection'], `connection "${r.connection}" speaks ${conn.config.protocol}, which has no discovery (an mqtt connection has)`);
      return;
    }
    const profile = bind(['discover', i], r.profile, r.class, conn);
    if (!profile || !conn) return;
    slot(conn.driver).discover.push({ index: i, rule: r, profile, connection: conn.config });
    discover.push({ rule: r, profile, driver: conn.driver });
  });

  // Each driver's own checks across its connections, devices and rules.
  const located = (list: readonly DriverProblem[]) => list.forEach((p) => at(p.path, p.message));
  for (const driver of drivers) {
    const mine = [...connections.values()].filter((c) => c.driver === driver).map((c) => ({ index: c.index, connection: c.config }));
    const s = perDriver.get(driver) ?? { devices: [], discover: [] };
    if (!mine.length && !s.devices.length) continue;
    located(driver.check?.({ connections: mine, devices: s.devices, discover: s.discover, site: { embeddedBroker: config.broker.embedded !== undefined } }) ?? []);
  }
  located(checkSinks(config.sinks, connections));
  located(controlProblems(config, devices));

  if (problems.length) return { ok: false, problems: sortProblems(problems) };
  const site: ResolvedSite = {
    config: { ...config, connections: parsed },
    profiles,
    connections: new Map([...connections].map(([id, c]) => [id, { config: c.config, driver: c.driver }])),
    devices,
    discover,
  };
  // The config inside is frozen; the site's own maps are never written after this.
  return { ok: true, site: Object.freeze({ ...site, config: deepFreeze(site.config) }) };
}

/** Config problems by line (in the order found within a line); problems in profile files after them, by file. */
function sortProblems(list: ConfigProblem[]): ConfigProblem[] {
  return [...list].sort((a, b) => (a.file ?? '').localeCompare(b.file ?? '') || (a.line ?? 0) - (b.line ?? 0));
}
