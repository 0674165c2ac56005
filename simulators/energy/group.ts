import type { Clock } from '../../gateway/model/clock.js';
import type { ModbusProfile } from '../../drivers/modbus/profile-schema.js';
import { ScenarioError, type SimulatorGroup } from '../core.js';
import { UnitImage, type ImageDevice } from '../servers/modbus-image.js';
import { ModbusRtuTcpSimServer } from '../servers/modbus-rtu-tcp.js';
import { ModbusTcpSimServer } from '../servers/modbus-tcp.js';
import { SimUnits, type ModbusFault } from '../servers/modbus-units.js';
import type { EnergyCommunity } from './community.js';
import type { EnergyDevice, EnergyEndpoint, EnergyModelKind } from './schema.js';

/** Catalog class of each model. */
export const CLASS_OF: Readonly<Record<EnergyModelKind, string>> = {
  pv: 'pv_inverter',
  grid: 'grid_meter',
  battery: 'battery',
  heat_pump: 'heat_pump',
  tank: 'thermal_storage',
  water: 'water_meter',
  household: 'grid_meter',
};

/** Largest magnitudes, so that SunSpec scale factors fit for the unit's whole life. */
function ratings(d: EnergyDevice, loadKw: number): Record<string, number> {
  const kw = (x: number) => x * 1000;
  switch (d.model) {
    case 'pv':
      return { ac_power: kw(d.kwp * 1.1), dc_power: kw(d.kwp * 1.2), energy_total: 1e9 };
    case 'battery':
      return { power: kw(d.power_kw * 1.1), capacity: kw(d.capacity_kwh), soc: 100, soh: 100 };
    case 'grid':
      return { power: kw(loadKw * 4 + 500), import_total: 2e9, export_total: 2e9 };
    default:
      return {};
  }
}

/**
 * One simulated Modbus endpoint (a TCP device or an RS-485-to-TCP gateway) and the units behind
 * it. Before each answer the community is advanced to the simulated now and the unit's image is
 * re-encoded through the profile, so a read always shows the present.
 */
export class EnergyGroup implements SimulatorGroup {
  readonly name: string;
  readonly units = new SimUnits();
  private readonly server: ModbusTcpSimServer | ModbusRtuTcpSimServer;
  private readonly ids: string[] = [];

  constructor(
    readonly endpoint: EnergyEndpoint,
    private readonly community: EnergyCommunity,
    profiles: ReadonlyMap<string, ModbusProfile>,
    clock: Clock,
    loadKw: number,
  ) {
    this.name = `energy-${endpoint.name}`;
    for (const u of endpoint.units) {
      const profile = profiles.get(u.profile);
      if (!profile) throw new ScenarioError(`energy: unit ${u.unit} on ${endpoint.name}: no modbus profile "${u.profile}"`);
      const devices: ImageDevice[] = u.devices.map((d) => {
        this.ids.push(d.id);
        const cls = CLASS_OF[d.model];
        if (!profile.classes.includes(cls)) throw new ScenarioError(`energy: ${d.id}: profile ${u.profile} has no class ${cls}`);
        return {
          cls,
          values: () => community.values(d.id),
          options: { invert: d.invert },
          ratings: ratings(d, loadKw),
          notImplemented: new Set(d.not_implemented),
          command: (name, value) => community.command(d.id, name, value),
          commandState: (name) => community.commandState(d.id, name),
        };
      });
      const image = new UnitImage(profile, devices, u.sunspec ? { models: u.sunspec.models, mppt: u.sunspec.mppt, base: u.sunspec.base, serial: `SIM-${endpoint.name}-${u.unit}` } : undefined);
      const unit: { image: UnitImage; refresh: () => void; fault?: ModbusFault } = {
        image,
        refresh: () => {
          community.advance(clock.now());
          image.refresh();
        },
      };
      if (u.fault) unit.fault = u.fault;
      this.units.add(u.unit, unit);
    }
    const opts = { host: endpoint.host, port: endpoint.port };
    this.server = endpoint.framing === 'tcp' ? new ModbusTcpSimServer(this.units, opts) : new ModbusRtuTcpSimServer(this.units, opts);
  }

  /** Inject or clear a fault on one unit (tests, `fcgw simulate`). */
  setFault(unit: number, fault: ModbusFault | undefined): void {
    this.units.setFault(unit, fault);
  }

  async start(): Promise<void> {
    await this.server.start();
  }

  async stop(): Promise<void> {
    await this.server.stop();
  }

  groundTruth(): Record<string, unknown> {
    return { ...this.community.groundTruth(this.ids), community: this.community.totals(), hourly: this.community.marks(this.ids), modbus: { ...this.units.counters } };
  }
}

