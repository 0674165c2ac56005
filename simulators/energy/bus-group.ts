import type { Clock } from '../../gateway/model/clock.js';
import { encodeBcd } from '../../drivers/core/bcd.js';
import { METER_TYPE } from '../../drivers/cjt188/frame.js';
import { ScenarioError, type SimulatorGroup } from '../core.js';
import { startMeterBus, type Cjt188MeterSim, type Dlt645MeterSim, type MeterBusServer } from '../servers/meter-bus.js';
import type { EnergyCommunity } from './community.js';
import type { EnergyBus } from './schema.js';

/**
 * A bus of Chinese-standard meters (DL/T 645 electricity, CJ/T 188 water) behind a simulated
 * serial-device server, showing the community model's values as the meters' own formats carry
 * them (kWh with two decimals, m³ with two decimals): what a meter rounds, the gateway sees.
 */
export class MeterBusGroup implements SimulatorGroup {
  readonly name: string;
  private server: MeterBusServer | undefined;

  constructor(
    readonly bus: EnergyBus,
    private readonly community: EnergyCommunity,
    private readonly clock: Clock,
  ) {
    this.name = `meters-${bus.name}`;
    for (const m of bus.meters) {
      if (bus.protocol === 'dlt645' && m.device.model !== 'household' && m.device.model !== 'grid') throw new ScenarioError(`energy: bus ${bus.name}: meter ${m.address} (${m.device.id}) must be a household or grid model on a DL/T 645 bus`);
      if (bus.protocol === 'cjt188' && m.device.model !== 'water') throw new ScenarioError(`energy: bus ${bus.name}: meter ${m.address} (${m.device.id}) must be a water model on a CJ/T 188 bus`);
      if (bus.protocol === 'cjt188' && !(m.meter_type in METER_TYPE)) throw new ScenarioError(`energy: bus ${bus.name}: unknown meter_type ${m.meter_type}`);
    }
  }

  private values(id: string): Record<string, unknown> {
    this.community.advance(this.clock.now());
    return this.community.values(id) as Record<string, unknown>;
  }

  private dltMeters(): Dlt645MeterSim[] {
    return this.bus.meters.map((m) => {
      const relay = { open: false, password: m.password, operations: 0 };
      return {
      address: m.address,
      edition: '2007',
      relay,
      read: (di: string) => {
        const v = this.values(m.device.id);
        const num = (k: string) => (typeof v[k] === 'number' ? (v[k] as number) : undefined);
        const sign = m.device.invert ? -1 : 1;
        switch (di) {
          case '02030000': {
            // The supply is cut: the meter measures nothing (the community's model keeps its own load).
            if (relay.open) return 0;
            const w = num('power');
            return w === undefined ? undefined : (sign * w) / 1000;
          }
          case '00010000': {
            const wh = num(m.device.invert ? 'export_total' : 'import_total');
            return wh === undefined ? undefined : Math.floor(wh / 10) / 100;
          }
          case '00020000': {
            const wh = num(m.device.invert ? 'import_total' : 'export_total');
            return wh === undefined ? undefined : Math.floor(wh / 10) / 100;
          }
          default:
            return undefined;
        }
      },
      };
    });
  }

  private cjtMeters(): Cjt188MeterSim[] {
    const q = (v: number, code: number) => Buffer.concat([encodeBcd(Math.floor(v * 100) / 100, 4, { decimals: 2 }), Buffer.from([code])]);
    return this.bus.meters.map((m) => ({
      address: m.address,
      type: METER_TYPE[m.meter_type as keyof typeof METER_TYPE],
      body: () => {
        const v = this.values(m.device.id);
        const m3 = (typeof v['volume_total'] === 'number' ? v['volume_total'] : 0) % 1_000_000;
        // Meters in China keep Beijing time (UTC+8, no daylight saving) on their clocks.
        const t = new Date(this.clock.now() + 8 * 3_600_000);
        const bcd = (n: number) => ((Math.floor(n / 10) % 10) << 4) | n % 10;
        const time = Buffer.from([bcd(t.getUTCSeconds()), bcd(t.getUTCMinutes()), bcd(t.getUTCHours()), bcd(t.getUTCDate()), bcd(t.getUTCMonth() + 1), bcd(t.getUTCFullYear() % 100), bcd(Math.floor(t.getUTCFullYear() / 100))]);
        return Buffer.concat([q(m3, 0x2c), q(m3, 0x2c), time, Buffer.from([v['low_battery'] === true ? 0x04 : 0x00, 0x00])]);
      },
    }));
  }

  async start(): Promise<void> {
    const silent = new Set(this.bus.meters.filter((m) => m.silent).map((m) => m.address));
    const spec = this.bus.protocol === 'dlt645' ? { protocol: 'dlt645' as const, meters: this.dltMeters() } : { protocol: 'cjt188' as const, meters: this.cjtMeters() };
    const badChecksum = new Set(this.bus.meters.filter((m) => m.bad_checksum).map((m) => m.address));
    this.server = await startMeterBus(spec, { host: this.bus.host, port: this.bus.port, baud: this.bus.baud, faults: { silent, badChecksum, wakeUp: 2 } });
  }

  async stop(): Promise<void> {
    await this.server?.close();
    this.server = undefined;
  }

  groundTruth(): Record<string, unknown> {
    const ids = this.bus.meters.map((m) => m.device.id);
    return { ...this.community.groundTruth(ids), hourly: this.community.marks(ids), bus: this.server ? { ...this.server.stats } : {} };
  }
}
