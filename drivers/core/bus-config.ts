import { z } from 'zod';
import { duration, port, slug, strict } from '../../gateway/model/zod-helpers.js';
import type { BusEndpoint, BusOptions } from './bus-link.js';
import type { MeterBusSettings } from './meter-bus-driver.js';

/**
 * A connection to an RS-485 bus of meters (DL/T 645, CJ/T 188): a serial port (`path`, default
 * 2400 8E1, as both standards specify) or a serial-device server in transparent TCP mode
 * (`host`, `port`). One request in flight on the bus; timeouts, retries and quarantine as Modbus.
 */
export function busConnectionSchema<P extends string>(protocol: P) {
  return strict({
    id: slug,
    protocol: z.literal(protocol),
    host: z.string().min(1).optional(),
    port: port.optional(),
    path: z.string().min(1).optional(),
    baud: z.union([z.literal(1200), z.literal(2400), z.literal(4800), z.literal(9600), z.literal(19200)]).default(2400),
    parity: z.enum(['none', 'even', 'odd']).default('even'),
    data_bits: z.union([z.literal(7), z.literal(8)]).default(8),
    stop_bits: z.union([z.literal(1), z.literal(2)]).default(1),
    /** A meter answers within a few hundred ms; a slow bus gateway adds some. */
    timeout: duration('1s'),
    /** Pause between the end of one exchange and the next request (the standards ask for ≥ 20 ms). */
    gap: duration('30ms'),
    retries: z.number().int().min(0).max(10).default(1),
    reconnect_min: duration('500ms'),
    reconnect_max: duration('30s'),
    quarantine_min: duration('30s'),
    quarantine_max: duration('15m'),
  }).superRefine((c, ctx) => {
    if ((c.host === undefined) === (c.path === undefined))
      ctx.addIssue({ code: 'custom', path: ['host'], message: 'give either host and port (a serial-device server) or path (a serial port), not both or neither' });
    if (c.host !== undefined && c.port === undefined) ctx.addIssue({ code: 'custom', path: ['port'], message: 'a serial-device server needs its port (often 4001, 8899 or 502)' });
  });
}

export type BusConnection = z.infer<ReturnType<typeof busConnectionSchema>>;

export function busEndpoint(c: BusConnection): BusEndpoint {
  if (c.host !== undefined) return { kind: 'tcp', host: c.host, port: c.port ?? 4001 };
  return { kind: 'serial', path: c.path ?? '', baud: c.baud, parity: c.parity, dataBits: c.data_bits, stopBits: c.stop_bits };
}

export function busOptions(c: BusConnection): BusOptions {
  return { gapMs: c.gap, reconnectMinMs: c.reconnect_min, reconnectMaxMs: c.reconnect_max, connectTimeoutMs: Math.max(c.timeout, 1000) };
}

export function busSettings(c: BusConnection): MeterBusSettings {
  return { timeoutMs: c.timeout, retries: c.retries, quarantineMinMs: c.quarantine_min, quarantineMaxMs: c.quarantine_max };
}

/**
 * Every device on a bus has its meter address (`digits` decimal digits, as on its label), and no
 * two devices on one bus share one. Paths from the config root.
 */
export function addressProblems(devices: readonly { index: number; config: { address?: string | undefined; connection: string } }[], digits: number): { path: (string | number)[]; message: string }[] {
  const out: { path: (string | number)[]; message: string }[] = [];
  const seen = new Map<string, number>();
  for (const { index, config } of devices) {
    const a = config.address;
    if (a === undefined) {
      out.push({ path: ['devices', index], message: `a meter on a bus needs its address: ${digits} digits as on its label` });
      continue;
    }
    if (!new RegExp(`^[0-9]{${digits}}$`).test(a)) {
      out.push({ path: ['devices', index, 'address'], message: `"${a}" is not a meter address: ${digits} decimal digits as on the label${a.length !== digits ? ` (it has ${a.length})` : ''}` });
      continue;
    }
    const key = `${config.connection}/${a}`;
    const other = seen.get(key);
    if (other !== undefined) out.push({ path: ['devices', index, 'address'], message: `address ${a} is also devices[${other}]'s on this bus` });
    else seen.set(key, index);
  }
  return out;
}
