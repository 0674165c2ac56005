import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parse, stringify } from 'yaml';
import { describe, expect, it } from 'vitest';
import { Gateway } from '../../../gateway/app.js';
import { parseConfig } from '../../../gateway/config/load.js';
import { CATALOG } from '../../../gateway/model/catalog.js';
import { createLogger } from '../../../gateway/runtime/log.js';
import { relocatedDemo } from '../../helpers/demo.js';
import { tempDir, waitFor } from '../../helpers/peers.js';

/**
 * The demo's energy plant over Modbus (config/demo.yaml, simulators/scenarios/community.yaml):
 * PV inverters (SunSpec 103 + 160), the battery (802) and the community meter (203) on one
 * SunSpec unit, two heat pumps with a buffer tank, four water meters; one Modbus TCP link and one
 * RTU-over-TCP link with several unit ids. Every catalog metric their device models carry
 * reaches /api/latest with good quality. The demo's polls are shortened so this takes seconds.
 */

/** Catalog metrics a device model has no register for, by profile and class (documented in the profiles). */
const NOT_IN_MODEL: Record<string, string[]> = {
  'sunspec/battery': ['charged_total', 'discharged_total'], // model 802 has no energy counters
  'modbus-water-meter/water_meter': ['leak', 'burst', 'backflow', 'tamper'], // not in this meter's map
};

interface LatestRow {
  device: string;
  metric: string;
  quality: string;
  value: unknown;
}

describe('the demo energy plant over Modbus', () => {
  it('puts every catalog metric of every Modbus device into /api/latest with good quality', async () => {
    const t = tempDir('fcgw-modbus-demo-');
    let gw: Gateway | undefined;
    try {
      const { configFile, text } = await relocatedDemo(t.dir);
      const full = parseConfig(text, configFile, {});
      // Only the energy scene over Modbus: no other simulators, no other connections.
      const scenario = parse(readFileSync(full.simulators.scenario, 'utf8')) as Record<string, unknown>;
      writeFileSync(full.simulators.scenario, stringify({ energy: scenario['energy'] }));
      const modbus = full.connections.filter((c) => c.protocol.startsWith('modbus'));
      const ids = new Set(modbus.map((c) => c.id));
      const devices = full.devices.filter((d) => ids.has(d.connection));
      const config = { ...full, connections: modbus, discover: [], devices: devices.map((d) => ({ ...d, poll: 400 })), targets: [] };

      expect(modbus.map((c) => c.protocol).sort()).toEqual(['modbus-rtu-over-tcp', 'modbus-tcp']);
      const byClass = (cls: string) => devices.filter((d) => d.class === cls).length;
      expect([byClass('pv_inverter'), byClass('battery'), byClass('grid_meter'), byClass('heat_pump'), byClass('thermal_storage'), byClass('water_meter')]).toEqual([2, 1, 1, 2, 1, 4]);
      const rtu = modbus.find((c) => c.protocol === 'modbus-rtu-over-tcp')?.id;
      expect(new Set(devices.filter((d) => d.connection === rtu).map((d) => d.unit)).size).toBe(4);

      gw = Gateway.create({ config, log: createLogger({ level: 'warn' }), processMetrics: false, env: { FCGW_SITE_SECRET: 'd'.repeat(32) } });
      await gw.start();
      const want = new Map(
        devices.map((d) => {
          const skip = NOT_IN_MODEL[`${d.profile}/${d.class}`] ?? [];
          return [d.id, Object.keys(CATALOG[d.class]?.metrics ?? {}).filter((m) => !skip.includes(m)).sort()];
        }),
      );
      const api = gw.apiUrl;
      const rows = await waitFor(async () => {
        const all = (await (await fetch(`${api}/api/latest`)).json()) as LatestRow[];
        const good = (id: string) => all.filter((r) => r.device === id && r.quality === 'good').map((r) => r.metric);
        return [...want].every(([id, ms]) => ms.every((m) => good(id).includes(m))) ? all : undefined;
      }, 15_000).catch(async () => (await (await fetch(`${api}/api/latest`)).json()) as LatestRow[]);
      for (const [id, ms] of want) {
        const got = rows.filter((r) => r.device === id && r.quality === 'good').map((r) => r.metric).sort();
        expect(got, id).toEqual(ms);
      }
      expect(rows.find((r) => r.device === 'pv-roof-a' && r.metric === 'state')?.value).toBeTypeOf('string');
      // The water meter's plan, through the same path as `fcgw explain`.
      // A SunSpec device: addresses come from discovery, the plan within each model is shown now.
      expect(gw.explainDevice('pv-roof-a')).toEqual(
        expect.arrayContaining([
          '  model 101/102/103, offsets from its ID register:',
          '    FC3 holding 14..38 (25 registers): ac_power, energy_total, dc_power, state',
          '  model 111/112/113, offsets from its ID register:',
          '    FC3 holding 22..48 (27 registers): ac_power, energy_total, dc_power, state',
          '  model 160, first block, offsets from its ID register:',
          '    FC3 holding 4..21 (18 registers): dc_power',
        ]),
      );
      expect(gw.explainDevice('wm-rainwater').slice(-2)).toEqual(['  FC3 holding 5..27 (23 registers): flow, dry, low_battery', '  FC3 holding 1..4 (4 registers) [slow]: volume_total, reverse_total']);
    } finally {
      await gw?.stop();
      t.cleanup();
    }
  }, 30_000);

  it('`fcgw explain` prints the planned requests of a device', async () => {
    const run = promisify(execFile);
    const bin = join(import.meta.dirname, '../../../bin/fcgw.js');
    const { stdout } = await run(process.execPath, [bin, 'explain', '-c', 'config/demo.yaml', 'hp-1'], { cwd: join(import.meta.dirname, '../../..') });
    expect(stdout.trim().split('\n')).toEqual([
      'hp-1 (heat_pump) on energy-tcp [modbus-tcp], profile heat-pump-xyzz',
      'link energy-tcp: modbus-tcp, timeout 500 ms, gap 5 ms, retries 1',
      'hp-1: unit 3, class heat_pump, profile heat-pump-xyzz, poll 10000 ms',
      '  FC3 holding 2..2 (1 registers): outdoor_temp',
      '  FC3 holding 1003..1012 (10 registers): mode, supply_temp, return_temp, thermal_power, electric_power',
      '  FC3 holding 2002..2002 (1 registers): dhw_temp',
      '  FC4 input 5000..5000 (1 registers): sg_ready',
      '  FC3 holding 1020..1023 (4 registers) [slow]: electric_total, thermal_total',
    ]);
  });
});
