import { commandsOf, findCommand } from '../../drivers/core/commands.js';
import type { Profile } from '../../drivers/profiles/schema.js';
import type { DeviceConfig, GatewayConfig } from '../config/schema.js';
import { didYouMean } from '../model/suggest.js';

type Problem = { path: (string | number)[]; message: string };

/**
 * The control section against the devices it names, and the devices against their profiles'
 * commands (a declared rating must be a positive number). Part of the one site validation.
 */
export function controlProblems(config: Readonly<GatewayConfig>, devices: ReadonlyMap<string, { config: DeviceConfig; profile: Profile }>): Problem[] {
  const out: Problem[] = [];
  const c = config.control;
  const ids = [...devices.keys()];
  const device = (path: (string | number)[], id: string) => {
    const d = devices.get(id);
    if (!d) out.push({ path, message: `no configured device "${id}"${didYouMean(id, ids)}` });
    return d;
  };
  const takes = (path: (string | number)[], id: string, command: string) => {
    const d = device(path, id);
    if (d && !findCommand(d.profile, d.config.class, command)) out.push({ path, message: `device ${id} (profile ${d.profile.id}) takes no command ${command}` });
  };
  c.interlocks.forEach((il, i) => {
    il.devices.forEach((id, j) => {
      const d = device(['control', 'interlocks', i, 'devices', j], id);
      if (!d) return;
      il.commands.forEach((cmd, k) => {
        if (!findCommand(d.profile, d.config.class, cmd)) out.push({ path: ['control', 'interlocks', i, 'commands', k], message: `device ${id} takes no command ${cmd}` });
      });
    });
    device(['control', 'interlocks', i, 'when', 'device'], il.when.device);
  });
  const s = c.surplus;
  if (s.enabled && s.grid_meter === undefined) out.push({ path: ['control', 'surplus', 'grid_meter'], message: 'surplus control needs the grid meter whose power it watches' });
  if (s.grid_meter !== undefined) {
    const g = device(['control', 'surplus', 'grid_meter'], s.grid_meter);
    if (g && g.config.class !== 'grid_meter') out.push({ path: ['control', 'surplus', 'grid_meter'], message: `device ${s.grid_meter} is a ${g.config.class}, not a grid_meter` });
  }
  if (s.import_w >= s.export_w && s.enabled) out.push({ path: ['control', 'surplus', 'import_w'], message: 'import_w must stay below export_w' });
  s.heat_pumps.forEach((hp, i) => {
    takes(['control', 'surplus', 'heat_pumps', i, 'device'], hp.device, 'sg_ready');
    if (hp.tank !== undefined) device(['control', 'surplus', 'heat_pumps', i, 'tank'], hp.tank);
  });
  s.batteries.forEach((b, i) => {
    takes(['control', 'surplus', 'batteries', i, 'device'], b.device, 'power_setpoint');
    takes(['control', 'surplus', 'batteries', i, 'device'], b.device, 'remote_control');
    if (b.soc_min >= b.soc_max) out.push({ path: ['control', 'surplus', 'batteries', i, 'soc_min'], message: `soc_min ${b.soc_min} must stay below soc_max ${b.soc_max}` });
  });
  config.devices.forEach((dc, i) => {
    const d = devices.get(dc.id);
    if (!d) return;
    for (const cmd of commandsOf(d.profile)) {
      if (cmd.value.type !== 'number' || cmd.value.rating === undefined || !(cmd.value.rating in dc.options)) continue;
      const r = dc.options[cmd.value.rating];
      if (typeof r !== 'number' || r <= 0) out.push({ path: ['devices', i, 'options', cmd.value.rating], message: `the rating that bounds ${cmd.name} must be a positive number` });
    }
  });
  return out;
}
