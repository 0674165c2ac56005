import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { parseConfig } from '../../../gateway/config/load.js';
import { CATALOG } from '../../../gateway/model/catalog.js';
import { RESERVED_FIELDS } from '../../../gateway/sinks/line-protocol.js';
import { startEnv } from '../../helpers/start-env.js';
import { composeEnv, interpolate, readDashboards, type Compose, type Service } from './compose-helpers.js';

/**
 * There is no Docker engine here, so the deployment is checked as data: docker-compose.yml's
 * services, images and the wiring of environment and volumes (with deploy/env.example filled
 * in, the gateway's config/docker.yaml resolves to the compose services), the simulators'
 * scenario, the Grafana provisioning, and every dashboard query against the metric catalog.
 */
const ROOT = join(import.meta.dirname, '../../..');
const read = (p: string) => readFileSync(join(ROOT, p), 'utf8');
const composeText = read('docker-compose.yml');
const compose = parse(composeText, { merge: true }) as Compose;
const svc = (name: string): Service => {
  const s = compose.services[name];
  if (!s) throw new Error(`no service ${name}`);
  return s;
};
// deploy/env.example with every secret filled in, as a user's .env would be.
const dotenv = composeEnv(read('deploy/env.example'), 'filled-in-secret-0123456789');
const envOf = (name: string): Record<string, string> =>
  Object.fromEntries(Object.entries(svc(name).environment ?? {}).map(([k, v]) => [k, interpolate(String(v), dotenv)]));
/** Bind mounts as [host path, container path]; named volumes as [name, container path]. */
const mounts = (name: string) => (svc(name).volumes ?? []).map((v) => v.split(':') as [string, string, string?]);

describe('docker-compose.yml', () => {
  it('has the gateway, the simulators as their own service, InfluxDB 2, Mosquitto and Grafana', () => {
    expect(Object.keys(compose.services).sort()).toEqual(['gateway', 'grafana', 'influxdb', 'mosquitto', 'simulators', 'victoriametrics']);
    expect(svc('influxdb').image).toMatch(/^influxdb:2(\.\d+)*$/);
    expect(svc('mosquitto').image).toMatch(/^eclipse-mosquitto:2(\.\d+)*$/);
    expect(svc('grafana').image).toMatch(/^grafana\/grafana:\d+\.\d+\.\d+$/);
    // One image built from the repository's Dockerfile runs both the gateway and the simulators.
    for (const name of ['gateway', 'simulators']) {
      expect(svc(name).build?.dockerfile).toBe('Dockerfile');
      expect(svc(name).image).toBe('fcgw:local');
    }
    expect(svc('gateway').command).toEqual(['start', '-c', 'config/docker.yaml']);
    expect(svc('simulators').command?.slice(0, 3)).toEqual(['simulate', '-c', 'deploy/simulators/simulate.yaml']);
    expect(svc('simulators').command?.slice(3)).toEqual(['--mqtt', 'mqtt://mosquitto:1883']);
    expect(Object.keys(svc('gateway').depends_on ?? {}).sort()).toEqual(['influxdb', 'mosquitto', 'simulators']);
    expect(svc('gateway').depends_on?.['influxdb']?.condition).toBe('service_healthy');
    expect(svc('influxdb').healthcheck?.test).toBeDefined();
    // Same image as the gateway, whose HEALTHCHECK asks the gateway's API: off for the simulators.
    expect(svc('simulators').healthcheck).toEqual({ disable: true });
    expect(readFileSync('Dockerfile', 'utf8')).toMatch(/HEALTHCHECK[^\n]*\n\s+CMD [^\n]*127\.0\.0\.1:8080\/api\/health/);
  });

  it('the image runs the gateway with the environment `npm start` gives it (glibc malloc tuning)', () => {
    const env = startEnv();
    expect(env).toEqual({ MALLOC_ARENA_MAX: '2', MALLOC_MMAP_THRESHOLD_: '131072' });
    const line = /^ENV (MALLOC.+)$/m.exec(readFileSync('Dockerfile', 'utf8'))?.[1] ?? '';
    expect(Object.fromEntries(line.split(/\s+/).map((w) => w.split('=') as [string, string]))).toEqual(env);
  });

  it('publishes ports on the host loopback only', () => {
    for (const [name, s] of Object.entries(compose.services)) {
      for (const p of s.ports ?? []) expect(p, name).toMatch(/^127\.0\.0\.1:\d+:\d+$/);
    }
  });

  it('has no default password: every secret must come from .env, and env.example names them all', () => {
    for (const secret of ['FCGW_API_TOKEN', 'INFLUX_TOKEN', 'INFLUX_ADMIN_PASSWORD', 'GRAFANA_ADMIN_PASSWORD']) {
      expect(composeText).toMatch(new RegExp(`\\$\\{${secret}:\\?`));
      expect(composeText).not.toMatch(new RegExp(`\\$\\{${secret}:-`));
      expect(() => interpolate(`\${${secret}:?required}`, {})).toThrow(/required/);
    }
    const referenced = new Set([...composeText.matchAll(/\$\{(\w+)/g)].map((m) => m[1]));
    const documented = new Set([...read('deploy/env.example').matchAll(/^(\w+)=/gm)].map((m) => m[1]));
    expect([...referenced].filter((v) => !documented.has(v))).toEqual([]);
  });

  it('initialises InfluxDB with the org, bucket and token the gateway and Grafana use', () => {
    const influx = envOf('influxdb');
    const gw = envOf('gateway');
    const grafana = envOf('grafana');
    expect(influx['DOCKER_INFLUXDB_INIT_MODE']).toBe('setup');
    expect(influx['DOCKER_INFLUXDB_INIT_ORG']).toBe(gw['INFLUX_ORG']);
    expect(influx['DOCKER_INFLUXDB_INIT_BUCKET']).toBe(gw['INFLUX_BUCKET']);
    expect(influx['DOCKER_INFLUXDB_INIT_ADMIN_TOKEN']).toBe(gw['INFLUX_TOKEN']);
    expect(influx['DOCKER_INFLUXDB_INIT_PASSWORD']).toBe('filled-in-secret-0123456789');
    for (const k of ['INFLUX_ORG', 'INFLUX_BUCKET', 'INFLUX_TOKEN']) expect(grafana[k], k).toBe(gw[k]);
    expect(gw['INFLUX_URL']).toBe('http://influxdb:8086');
  });

  it('the gateway config resolves, with the compose environment, to the compose services and volume', () => {
    const gw = envOf('gateway');
    const cfg = parseConfig(read('config/docker.yaml'), 'config/docker.yaml', gw);
    // Every ${VAR} the config needs without a default is set by the gateway service.
    const needed = [...read('config/docker.yaml').matchAll(/\$\{(\w+)\}/g)].map((m) => m[1] as string);
    expect(needed.filter((v) => !(v in gw))).toEqual([]);
    expect(cfg.site.id).toBe(gw['FCGW_SITE_ID']);
    expect(cfg.api.tokens).toEqual([gw['FCGW_API_TOKEN']]);
    expect(svc('gateway').ports).toContain(`127.0.0.1:${cfg.api.port}:${cfg.api.port}`);

    const data = mounts('gateway').find(([, target]) => cfg.store.path.startsWith(`${target}/`));
    expect(data?.[0]).toBe('gateway-data');
    expect(compose.volumes).toHaveProperty('gateway-data');

    const influx = cfg.sinks.find((s) => s.type === 'influxdb2');
    expect(influx).toMatchObject({ url: 'http://influxdb:8086', org: gw['INFLUX_ORG'], bucket: gw['INFLUX_BUCKET'], token: gw['INFLUX_TOKEN'], start_from: 'earliest' });
    const north = cfg.sinks.find((s) => s.type === 'mqtt');
    const mqttConn = cfg.connections.find((c) => c.id === (north && 'connection' in north ? north.connection : ''));
    expect(mqttConn).toMatchObject({ protocol: 'mqtt', url: 'mqtt://mosquitto:1883', clean: false });

    // The Modbus connections reach the simulators service, on endpoints its scenario opens to the network.
    const scenario = parse(read('deploy/simulators/community.yaml')) as { energy: { endpoints: { name: string; host?: string; port: number; units: { devices: { id: string }[] }[] }[] } };
    const modbus = cfg.connections.filter((c) => c.protocol.startsWith('modbus'));
    expect(modbus.length).toBe(scenario.energy.endpoints.length);
    for (const ep of scenario.energy.endpoints) {
      expect(ep.host, ep.name).toBe('0.0.0.0');
      expect(modbus.find((c) => c.id === ep.name)).toMatchObject({ host: 'simulators', port: ep.port });
      const simulated = ep.units.flatMap((u) => u.devices.map((d) => d.id)).sort();
      expect(cfg.devices.filter((d) => d.connection === ep.name).map((d) => d.id).sort(), ep.name).toEqual(simulated);
    }

    // The OPC UA energy station, at the endpoint it advertises on the compose network.
    const station = (parse(read('deploy/simulators/community.yaml')) as { opcua?: Record<string, unknown> & { host: string; port: number } }).opcua;
    if (station) {
      const ua = cfg.connections.find((c) => c.protocol === 'opcua');
      expect(ua && 'endpoint' in ua ? ua.endpoint : undefined).toBe(`opc.tcp://${station.host}:${station.port}`);
      expect(station.host).toBe('simulators');
      const ids = JSON.stringify(station).match(/station-[\w-]+/g) ?? [];
      expect(cfg.devices.filter((d) => d.connection === ua?.id).map((d) => d.id).sort()).toEqual([...new Set(ids)].sort());
    }
  });

  it('runs the simulators with the gateway\'s site and the community scenario, opened to the compose network', () => {
    const sim = parseConfig(read('deploy/simulators/simulate.yaml'), 'simulate.yaml', envOf('simulators'));
    expect(sim.site.id).toBe(envOf('gateway')['FCGW_SITE_ID']);
    expect(sim.simulators.scenario).toBe('deploy/simulators/community.yaml');
    // Apart from the listening hosts, the compose scenario is the demo's scenario (no drift); its
    // chargers publish OCPP bodies on MQTT (config/docker.yaml) rather than speaking OCPP-J.
    const strip = (v: unknown): unknown =>
      Array.isArray(v) ? v.map(strip) : v && typeof v === 'object' ? Object.fromEntries(Object.entries(v).filter(([k]) => k !== 'host' && k !== 'ocpp').map(([k, x]) => [k, strip(x)])) : v;
    expect(strip(parse(read('deploy/simulators/community.yaml')))).toEqual(strip(parse(read('simulators/scenarios/community.yaml'))));
    // The image carries what the simulators service reads.
    expect(read('Dockerfile')).toMatch(/^COPY deploy\/simulators \.\/deploy\/simulators$/m);
    expect(read('.dockerignore')).toMatch(/^!deploy\/simulators$/m);
  });

  it('mounts files that exist, and declares every named volume', () => {
    for (const name of Object.keys(compose.services)) {
      for (const [source] of mounts(name)) {
        if (source.startsWith('./')) expect(existsSync(join(ROOT, source)), `${name}: ${source}`).toBe(true);
        else expect(compose.volumes, `${name}: ${source}`).toHaveProperty(source);
      }
    }
  });

  it('Mosquitto keeps the queued messages of a gateway that is away (zero loss)', () => {
    const [source, target] = mounts('mosquitto').find(([, t]) => t === '/mosquitto/config/mosquitto.conf') ?? [];
    expect(source).toBe('./deploy/mosquitto/mosquitto.conf');
    expect(target).toBeDefined();
    const conf = read('deploy/mosquitto/mosquitto.conf');
    const setting = (k: string) => new RegExp(`^${k} (\\S+)$`, 'm').exec(conf)?.[1];
    expect(Number(setting('max_queued_messages'))).toBeGreaterThan(100_000);
    expect(setting('persistence')).toBe('true');
    expect(mounts('mosquitto').some(([, t]) => t === setting('persistence_location')?.replace(/\/$/, ''))).toBe(true);
  });
});

describe('Grafana provisioning and dashboards', () => {
  const grafanaMounts = new Map(mounts('grafana').map(([source, target]) => [target, source]));
  const datasourceFile = parse(read('deploy/grafana/provisioning/datasources/influxdb.yaml')) as {
    datasources: { uid: string; type: string; url: string; jsonData: Record<string, string>; secureJsonData: Record<string, string> }[];
  };
  const dashboards = readDashboards(join(ROOT, 'deploy/grafana/dashboards'));

  it('provisions the InfluxDB datasource of the compose InfluxDB, with its org, bucket and token', () => {
    expect(grafanaMounts.get('/etc/grafana/provisioning')).toBe('./deploy/grafana/provisioning');
    const [ds] = datasourceFile.datasources;
    expect(datasourceFile.datasources.length).toBe(1);
    expect(ds).toMatchObject({ type: 'influxdb', url: 'http://influxdb:8086', jsonData: { version: 'Flux' } });
    // Grafana expands these from its own environment, which docker-compose.yml sets.
    const grafanaEnv = envOf('grafana');
    const expand = (s: string) => s.replace(/\$\{(\w+)\}/g, (_, k: string) => grafanaEnv[k] ?? `<unset ${k}>`);
    expect(expand(ds?.jsonData['organization'] ?? '')).toBe(envOf('influxdb')['DOCKER_INFLUXDB_INIT_ORG']);
    expect(expand(ds?.jsonData['defaultBucket'] ?? '')).toBe(envOf('influxdb')['DOCKER_INFLUXDB_INIT_BUCKET']);
    expect(expand(ds?.secureJsonData['token'] ?? '')).toBe(envOf('influxdb')['DOCKER_INFLUXDB_INIT_ADMIN_TOKEN']);
  });

  it('provisions the two dashboards (low-carbon, transport) from the mounted folder', () => {
    const provider = parse(read('deploy/grafana/provisioning/dashboards/future-community.yaml')) as { providers: { type: string; options: { path: string } }[] };
    const path = provider.providers[0]?.options.path ?? '';
    expect(grafanaMounts.get(path)).toBe('./deploy/grafana/dashboards');
    expect(readdirSync(join(ROOT, 'deploy/grafana/dashboards')).sort()).toEqual(['low-carbon.json', 'transport.json']);
    const home = envOf('grafana')['GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH'] ?? '';
    expect(home.startsWith(`${path}/`) && existsSync(join(ROOT, 'deploy/grafana/dashboards', home.slice(path.length + 1)))).toBe(true);
    expect(new Set(dashboards.map((d) => d.uid)).size).toBe(2);
  });

  it('every panel queries the provisioned datasource, and names only catalog measurements and fields', () => {
    const uid = datasourceFile.datasources[0]?.uid;
    let queries = 0;
    for (const d of dashboards) {
      for (const q of d.queries) {
        const where = `${d.file}: ${q.panel}`;
        queries++;
        expect(q.datasourceUid, where).toBe(uid);
        // Many communities write into one bucket: every panel shows the communities chosen above it.
        expect(q.text, where).toContain('|> filter(fn: (r) => r.site =~ /^${site:regex}$/)');
        const measurements = [...q.text.matchAll(/r\._measurement == "([^"]+)"/g)].map((m) => m[1] as string);
        const fields = [...q.text.matchAll(/r\._field == "([^"]+)"/g)].map((m) => m[1] as string);
        expect(fields.length, `${where} names no field`).toBeGreaterThan(0);
        for (const m of measurements) expect(Object.keys(CATALOG), where).toContain(m);
        for (const f of fields) {
          if ((RESERVED_FIELDS as readonly string[]).includes(f)) continue;
          // A field is a metric or an event type (events are points whose field is their type) of a named measurement.
          const owners = measurements.filter((m) => f in (CATALOG[m]?.metrics ?? {}) || f in (CATALOG[m]?.events ?? {}));
          expect(owners, `${where}: field "${f}" is not in the catalog for ${measurements.join(', ')}`).not.toEqual([]);
        }
      }
    }
    expect(queries).toBeGreaterThanOrEqual(20);
  });

  it('offers the communities in the bucket (the site tag) as a dashboard variable', () => {
    for (const file of ['low-carbon.json', 'transport.json']) {
      const d = JSON.parse(read(`deploy/grafana/dashboards/${file}`)) as { templating: { list: { name: string; query: string; datasource: { uid: string }; includeAll: boolean }[] } };
      const site = d.templating.list.find((v) => v.name === 'site');
      expect(site, file).toMatchObject({ includeAll: true, datasource: { uid: datasourceFile.datasources[0]?.uid } });
      expect(site?.query).toMatch(/schema\.tagValues\(bucket: v\.defaultBucket, tag: "site"\)/);
    }
  });

  it('the low-carbon dashboard covers the energy scene and the transport dashboard the transport scene', () => {
    const measured = (file: string) => new Set(dashboards.find((d) => d.file === file)?.queries.flatMap((q) => [...q.text.matchAll(/r\._measurement == "([^"]+)"/g)].map((m) => m[1])));
    expect([...measured('low-carbon.json')]).toEqual(expect.arrayContaining(['pv_inverter', 'grid_meter', 'battery', 'heat_pump', 'water_meter']));
    expect([...measured('transport.json')]).toEqual(expect.arrayContaining(['parking_space', 'parking_garage', 'parcel_locker', 'access_door', 'ev_charger']));
  });
});
