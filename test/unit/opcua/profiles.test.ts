import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { DeviceConfig } from '../../../gateway/config/schema.js';
import { configSchema } from '../../../gateway/config/schema.js';
import { CATALOG } from '../../../gateway/model/catalog.js';
import { isKnownUnit } from '../../../gateway/model/units.js';
import { DRIVERS } from '../../../drivers/index.js';
import { OpcuaDriver } from '../../../drivers/opcua/driver.js';
import { describeNode, planDevice, resolveNodeId } from '../../../drivers/opcua/nodes.js';
import { opcuaProfileSchema, type OpcuaProfile } from '../../../drivers/opcua/profile-schema.js';
import type { OpcuaConnection } from '../../../drivers/opcua/session.js';
import { loadProfiles } from '../../../drivers/profiles/load.js';
import type { Profile } from '../../../drivers/profiles/schema.js';
import { StationModel, stationSchema } from '../../../simulators/opcua/index.js';

const { profiles } = loadProfiles(DRIVERS);
const opcua = [...profiles.values()].filter((p) => p.protocol === 'opcua') as unknown as (OpcuaProfile & Profile)[];
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
    configSchema.parse({ version: 1, site: { id: 't' }, connections: [{ id: 'st', protocol: 'opcua', endpoint: 'opc.tcp://127.0.0.1:4840', ...over }] }).connections[0] as OpcuaConnection;
  const ctx = { site: 't', clock: { now: () => 0 }, log: pino({ level: 'silent' }), dataDir: '/tmp', ingest: async () => undefined, reject: () => undefined, metrics: { pollLatency: () => undefined, linkError: () => undefined, messages: () => undefined } };
  const station = profiles.get('energy-station') as Profile;

  it('explains the nodes a device will monitor', () => {
    const d = new OpcuaDriver({ connection: conn({ security_mode: 'SignAndEncrypt', security_policy: 'Basic256Sha256', username: 'op' }), devices: [{ config: dev('heat_pump', { folder: 'HP1' }, { id: 'hp-1' }), profile: station }], ctx });
    const text = d.explain('hp-1').join('\n');
    expect(text).toContain('security SignAndEncrypt/Basic256Sha256, user op');
    expect(text).toContain('thermal_total ← Objects/EnergyStation/HP1/ThermalEnergy (sampling 0 ms, queue 200, publish 1000 ms, on new timestamps too)');
    expect(text).toContain('mode ← Objects/EnergyStation/HP1/OperatingMode');
    expect(d.health()).toMatchObject({ state: 'stopped', devices: [{ id: 'hp-1', state: 'unknown' }] });
  });

  it('refuses a security mode without a policy, a class the profile lacks, a metric outside the class', () => {
    expect(() => new OpcuaDriver({ connection: conn({ security_mode: 'Sign' }), devices: [], ctx })).toThrow(/security_policy/);
    expect(() => new OpcuaDriver({ connection: conn(), devices: [{ config: dev('water_meter', { folder: 'X' }), profile: station }], ctx })).toThrow(/not one of profile/);
    const odd = { ...station, classes: ['heat_pump', 'battery'] } as Profile;
    expect(() => new OpcuaDriver({ connection: conn(), devices: [{ config: dev('battery', { folder: 'X' }), profile: { ...odd, nodes: [{ metric: 'mode', path: 'M' }] } as Profile }], ctx })).toThrow(/not a battery metric/);
  });
});
