import type { Battery } from '../models/battery.js';
import type { HeatPump, SgReady } from '../models/heat-pump.js';

/**
 * How the simulated energy devices take the commands their profiles declare (the heat pump's SG
 * Ready input, the battery's remote control and power setpoint). A device built to ignore
 * commands (`ignore_commands`) accepts the write on the wire and keeps its state, so the
 * gateway's read-back sees that nothing changed.
 */

const SG: readonly SgReady[] = ['lock', 'normal', 'recommend', 'force_on'];

export function heatPumpCommands(hp: HeatPump, ignore: boolean) {
  return {
    command: (name: string, value: unknown): boolean => {
      if (ignore || name !== 'sg_ready' || !SG.includes(value as SgReady)) return false;
      if (hp.sgReady !== value) hp.sgChanges++;
      hp.sgReady = value as SgReady;
      return true;
    },
    state: (name: string) => (name === 'sg_ready' ? hp.sgReady : undefined),
  };
}

export function batteryCommands(b: Battery, ignore: boolean) {
  return {
    command: (name: string, value: unknown): boolean => {
      if (ignore) return false;
      if (name === 'remote_control' && typeof value === 'boolean') b.remote = value;
      else if (name === 'power_setpoint' && typeof value === 'number') b.setpointW = Math.max(-b.o.maxDischargeW, Math.min(b.o.maxChargeW, value));
      else return false;
      return true;
    },
    state: (name: string) => (name === 'remote_control' ? b.remote : name === 'power_setpoint' ? b.setpointW : undefined),
  };
}
