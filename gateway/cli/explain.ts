import { Gateway } from '../app.js';
import { createLogger } from '../runtime/log.js';
import { loadSite, siteOrThrow } from '../site/index.js';
import { DEFAULT_CONFIG, type Command } from './common.js';

const USAGE =
  'fcgw explain -c FILE DEVICE [--probe | --browse [--depth N]]\n  Show how a device will be read: Modbus requests as planned, MQTT topics, OPC UA nodes.\n  --probe talks to the device once first, so what only it can tell is filled in (a SunSpec model chain, absolute addresses); exit 1 if it does not answer. Given a DL/T 645 or CJ/T 188 connection instead of a device, it asks the one meter on that bus for its address.\n  --browse walks the live OPC UA server from the device\'s folder (or, given a connection id, from Objects) to help write a profile.';

/** A gateway built (not started) over the resolved site of a config file. */
function gatewayOf(file: string): Gateway {
  const site = siteOrThrow(loadSite(file), file);
  return Gateway.create({ config: site.config, site, log: createLogger({ level: 'warn' }), processMetrics: false });
}

export const explainCommand: Command = {
  usage: USAGE,
  async run(opts, positionals) {
    const file = opts.config ?? DEFAULT_CONFIG;
    const target = positionals[0];
    if (!target) {
      process.stderr.write(`${USAGE}\n`);
      return 2;
    }
    if (opts.browse) return browse(file, target, opts.depth ? Number(opts.depth) : undefined);
    if (opts.probe === true) {
      // A connection to a bus of meters: find the address of the one meter on it.
      const site = siteOrThrow(loadSite(file), file);
      const conn = site.connections.get(target);
      if (conn?.driver.findAddress) {
        const { lines, address } = await conn.driver.findAddress({ connection: conn.config, log: createLogger({ level: 'warn' }) });
        process.stdout.write(`${lines.join('\n')}\n`);
        return address ? 0 : 1;
      }
    }
    const gw = gatewayOf(file);
    if (opts.probe === true && gw.config.devices.some((d) => d.id === target)) {
      const { lines, ok } = await gw.probeDevice(target);
      process.stdout.write(`${lines.join('\n')}\n`);
      return ok ? 0 : 1;
    }
    const lines = gw.explainDevice(target);
    // A device that is neither configured nor fits a discover rule's id template: a usage error.
    if (lines[0]?.startsWith('no device')) {
      process.stderr.write(`fcgw: ${lines[0]} (${file})\n`);
      return 2;
    }
    process.stdout.write(`${lines.join('\n')}\n`);
    return 0;
  },
};

/** `explain --browse`: walk a live server from a device's place in it (or a connection's top). */
async function browse(file: string, target: string, depth: number | undefined): Promise<number> {
  const site = siteOrThrow(loadSite(file), file);
  const gw = Gateway.create({ config: site.config, site, log: createLogger({ level: 'warn' }), processMetrics: false });
  const device = site.devices.get(target);
  const conn = site.connections.get(device ? device.config.connection : target);
  if (!conn?.driver.browse) {
    process.stderr.write(`fcgw: ${target} is neither a device nor a connection that can be browsed (OPC UA) in ${file}\n`);
    return 2;
  }
  const lines = await conn.driver.browse({
    connection: conn.config,
    dataDir: gw.dataDir,
    ...(device ? { device: device.config, profile: device.profile } : {}),
    ...(depth ? { depth } : {}),
  });
  process.stdout.write(`${lines.join('\n')}\n`);
  return 0;
}
