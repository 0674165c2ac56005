import type { Profile } from '../../drivers/profiles/schema.js';
import type { GatewayConfig } from '../config/schema.js';

/** What `Gateway.reconfigure` did: applied in place, or not (the caller restarts the gateway). */
export type ReconfigureResult = { applied: true; restarted: string[]; unchanged: string[]; kpi: boolean; sinks: boolean } | { applied: false; reason: string };

/** What a reload changes, when all of it can be applied in place. */
export interface ReloadPlan {
  /** Connections whose driver must be rebuilt (settings, devices, rules or profiles changed; added or removed). */
  changed: string[];
  /** Connections that keep their running driver. */
  unchanged: string[];
  /** A new KPI engine (targets or KPI settings changed). */
  kpi: boolean;
  /** New sinks (their section changed, or the connection an mqtt sink borrows). */
  sinks: boolean;
}

/** The sections a reload can apply per connection. */
const PER_CONNECTION_SECTIONS = new Set<keyof GatewayConfig>(['connections', 'devices', 'discover']);
/** The sections a reload applies by starting a new KPI engine (its target state is in the store). */
const KPI_SECTIONS = new Set<keyof GatewayConfig>(['targets', 'kpi', 'emission_factor']);
/** Sinks are started anew on a reload that changes them; each resumes from its durable cursor. */
const SINK_SECTIONS = new Set<keyof GatewayConfig>(['sinks']);

/**
 * Compare the running config with the next one (and the profiles each names). A change to any
 * section other than those above cannot be applied in place: the reason says which.
 */
export function planReload(
  old: Readonly<GatewayConfig>,
  next: Readonly<GatewayConfig>,
  oldProfiles: ReadonlyMap<string, Profile>,
  nextProfiles: ReadonlyMap<string, Profile>,
): ReloadPlan | { reason: string } {
  const differs = (Object.keys({ ...old, ...next }) as (keyof GatewayConfig)[]).filter((k) => JSON.stringify(old[k]) !== JSON.stringify(next[k]));
  const sections = differs.filter((k) => !PER_CONNECTION_SECTIONS.has(k) && !KPI_SECTIONS.has(k) && !SINK_SECTIONS.has(k));
  if (sections.length) return { reason: `changed: ${sections.join(', ')}` };
  const ids = [...new Set([...next.connections.map((c) => c.id), ...old.connections.map((c) => c.id)])];
  const changed = ids.filter((id) => connectionSignature(old, oldProfiles, id) !== connectionSignature(next, nextProfiles, id));
  const unchanged = ids.filter((id) => !changed.includes(id) && next.connections.some((c) => c.id === id));
  // An mqtt sink takes its broker settings from a connection: a change there restarts the sinks too.
  const connectionOf = (c: Readonly<GatewayConfig>, id: string) => JSON.stringify(c.connections.find((x) => x.id === id) ?? null);
  const borrowed = changed.some((id) => next.sinks.some((s) => s.type === 'mqtt' && s.connection === id) && connectionOf(old, id) !== connectionOf(next, id));
  return { changed, unchanged, kpi: differs.some((k) => KPI_SECTIONS.has(k)), sinks: differs.includes('sinks') || borrowed };
}

/** Everything a connection's driver is built from; equal signatures mean the driver need not change. */
function connectionSignature(config: Readonly<GatewayConfig>, profiles: ReadonlyMap<string, Profile>, id: string): string {
  const devices = config.devices.filter((d) => d.connection === id && d.enabled).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const discover = config.discover.filter((r) => r.connection === id);
  const used = [...new Set([...devices.map((d) => d.profile), ...discover.map((r) => r.profile)])].sort();
  return JSON.stringify({
    connection: config.connections.find((c) => c.id === id) ?? null,
    devices,
    discover,
    profiles: used.map((p) => profiles.get(p) ?? null),
  });
}
