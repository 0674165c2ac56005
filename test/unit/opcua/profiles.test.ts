import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { DeviceConfig } from '../../../gateway/config/schema.js';
import { parseConfig } from '../../../gateway/config/load.js';
import { resolveSite } from '../../../gateway/site/index.js';
import { checkOpcuaProfile } from '../../../drivers/opcua/checks.js';
import { opcuaConnectionSchema } from '../../../drivers/opcua/connection-schema.js';
import { opcuaDriverFactory } from '../../../drivers/opcua/index.js';
import { CATALOG } from '../../../gateway/model/catalog.js';
import { isKnownUnit } from '../../../gateway/model/units.js';
import { DRIVERS } from '../../../drivers/index.js';
import { OpcuaDriver } from '../../../drivers/opcua/driver.js';
import { describeNode, planDevice, resolveNodeId } from '../../../drivers/opcua/nodes.js';
import { opcuaProfileSchema, type OpcuaProfile } from '../../../drivers/opcua/profile-schema.js';
import { loadProfiles, profilesOf } from '../../../gateway/site/profiles.js';
import type { Loaded, Profile } from '../../../drivers/profiles/schema.js';
import { StationModel, stationSchema } from '../../../simulators/opcua/index.js';

const { profiles } = loadProfiles(DRIVERS);
const opcua = [...profilesOf(profiles, opcuaDriverFactory).values()];
const dev = (cls: string, options: DeviceConfig['options'] = {}, over: Partial<DeviceConfig> = {}): DeviceConfig => ({ id: 'd1', class: cls, connection: 'c', profile: 'p', tags: {}, options, enabled: true, ...over });

describe('OPC UA profiles', () => {
  it('there is at least the energy station', () => expect(opcua.map((p) => p.id)).toContain('energy-station'));

  it.each(opcua.map((p) => [p.id, p] as const))('%s: every node maps to a metric of its class, with a known unit, once per class', (_id, p) => {
    for (const cls of p.classes) {
      const nodes = planDevice(dev(cls, { folder: 'X' }), p);
      expect(nodes.length, cls).toBeGreaterThan(0);
      const metrics = nodes.map((n) => n.metric);
      expect(new Set(metrics).size, `${cls}: a metric mapped twice`).toBe(metrics.length);
      for (const n of nodes) {
        const def = CATALOG[cls]?.metrics[n.metric];
        expect(def, `${cls}.${n.metric}`).toBeDefined();
        if (n.unit !== undefined) expect(isKnownUnit(n.unit), n.unit).toBe(true);
        if (def?.unit === 'enum') expect(Object.values(n.map ?? {}).every((v) => def.values?.includes(String(v)))).toBe(true);
      }
    }
  });

  it('the energy-station profile and the station simulator agree: same folders, names, metrics and units', () => {
    const s = stationSchema.parse({
      port: 1,
      heat_pumps: [{ id: 'hp', folder: 'HP1' }],
      tank: { id: 'tank', folder: 'Tank' },
      electricity_meter: { id: 'em', folder: 'ElectricityMeter' },
      heat_meter: { id: 'hm', folder: 'HeatMeter' },
    });
    const model = new StationModel(s, { start: Date.UTC(2024, 0, 15), seed: 1, latitude: 30, longitude: 120 });
    const cls = { heat_pump: 'heat_pump', tank: 'thermal_storage', electricity_meter: 'grid_meter', heat_meter: 'heat_meter' } as const;
    const profile = profiles.get('energy-station') as unknown as OpcuaProfile;
    for (const d of model.devices) {
      const nodes = planDevice(dev(cls[d.kind], { folder: d.folder }), profile);
      const points = d.points();
      expect(nodes.map((n) => n.path?.map((x) => x.name).join('/')).sort()).toEqual(points.map((p) => `EnergyStation/${d.folder}/${p.name}`).sort());
      for (const p of points) {
        const n = nodes.find((x) => x.path?.at(-1)?.name === p.name);
        expect(n?.metric, p.name).toBe(p.metric);
        expect(n?.unit, p.name).toBe(p.unit);
      }
    }
  });

  it('fills placeholders from device options and says which option is missing', () => {
    const p = profiles.get('energy-station') as unknown as OpcuaProfile;
    const [first] = planDevice(dev('heat_pump', { folder: 'HP2' }), p);
    expect(first?.path?.map((s) => s.name)).toEqual(['EnergyStation', 'HP2', 'ElectricPower']);
    expect(describeNode(first as NonNullable<typeof first>)).toContain('Objects/EnergyStation/HP2/ElectricPower');
    expect(() => planDevice(dev('heat_pump'), p)).toThrow(/option "folder"/);
  });

  it('rewrites nsu= node ids to the server namespace index', () => {
    expect(resolveNodeId('nsu=urn:a;s=X.Y', ['http://opcfoundation.org/UA/', 'urn:srv', 'urn:a'])).toEqual({ id: 'ns=2;s=X.Y' });
    expect(resolveNodeId('ns=3;i=7', [])).toEqual({ id: 'ns=3;i=7' });
    expect(resolveNodeId('nsu=urn:b;i=1', ['urn:a'])).toEqual({ error: 'namespace urn:b is not on this server' });
  });

  it('rejects a node with both a node id and a path, and paths without a root', () => {
    const base = { id: 'x', description: 'x', classes: ['heat_pump'], protocol: 'opcua' };
    expect(opcuaProfileSchema.safeParse({ ...base, nodes: [{ metric: 'mode', node: 'i=1', path: 'A' }] }).success).toBe(false);
    expect(opcuaProfileSchema.safeParse({ ...base, nodes: [{ metric: 'mode', path: 'A' }] }).success).toBe(false);
    expect(opcuaProfileSchema.safeParse({ ...base, nodes: [{ metric: 'mode', node: 'ns=2;s=A' }] }).success).toBe(true);
  });
});

describe('OPC UA driver configuration (no I/O)', () => {
  const conn = (over: Record<string, unknown> = {}) =>
    opcuaConnectionSchema.parse({ id: 'st', protocol: 'opcua', endpoint: 'opc.tcp://127.0.0.1:4840', ...over });
  const ctx = { site: 't', clock: { now: () => 0 }, log: pino({ level: 'silent' }), dataDir: '/tmp', ingest: async () => undefined, reject: () => undefined, metrics: { pollLatency: () => undefined, linkError: () => undefined, messages: () => undefined } };
  const station = opcua.find((p) => p.id === 'energy-station') as Loaded<OpcuaProfile>;

  it('explains the nodes a device will monitor', () => {
    const d = new OpcuaDriver({ connection: conn({ security_mode: 'SignAndEncrypt', security_policy: 'Basic256Sha256', username: 'op' }), devices: [{ config: dev('heat_pump', { folder: 'HP1' }, { id: 'hp-1' }), profile: station }], ctx });
    const text = d.explain('hp-1').join('\n');
    expect(text).toContain('security SignAndEncrypt/Basic256Sha256, user op');
    expect(text).toContain('thermal_total ← Objects/EnergyStation/HP1/ThermalEnergy (sampling 0 ms, queue 200, publish 1000 ms, on new timestamps too)');
    expect(text).toContain('mode ← Objects/EnergyStation/HP1/OperatingMode');
    expect(d.health()).toMatchObject({ state: 'stopped', devices: [{ id: 'hp-1', state: 'unknown' }] });
  });

  it('refuses (in the one validation) a security mode without a policy, a class the profile lacks, a metric outside the class', () => {
    const site = (connection: string, device: string, extra: Profile[] = []) => {
      const config = parseConfig(`version: 1\nsite: { id: t }\nconnections:\n  - { id: st, protocol: opcua, endpoint: "opc.tcp://127.0.0.1:4840"${connection} }\ndevices:\n  - { id: d1, connection: st, ${device} }\n`);
      const all = new Map<string, Profile>([...profiles, ...extra.map((p) => [p.id, p] as [string, Profile])]);
      const r = resolveSite({ config, profiles: all, profileProblems: [], drivers: DRIVERS });
      return r.ok ? [] : r.problems.map((p) => `${p.path}: ${p.message}`);
    };
    expect(site(', security_mode: Sign', 'class: heat_pump, profile: energy-station, options: { folder: HP1 }')).toEqual([expect.stringMatching(/^connections\[0\]\.security_policy: .*security_policy other than None/)]);
    expect(site('', 'class: water_meter, profile: energy-station, options: { folder: X }')).toEqual([expect.stringMatching(/^devices\[0\]\.class: profile "energy-station" serves .*not water_meter/)]);
    const odd = { ...station, id: 'odd', classes: ['heat_pump', 'battery'], nodes: [{ metric: 'mode', path: 'M' }] } as Loaded<OpcuaProfile>;
    expect(checkOpcuaProfile(odd)).toEqual([{ path: ['nodes', 0, 'metric'], message: expect.stringMatching(/"mode" is not a metric of battery/) }]);
  });
});
