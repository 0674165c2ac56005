import type { Logger } from 'pino';
import { BusError, BusLink, type Awaited } from './bus-link.js';
import { busEndpoint, busOptions, type BusConnection } from './bus-config.js';

/**
 * One wildcard read on a bus, for `fcgw explain --probe <connection>`: with a single meter on the
 * bus, its answer carries its address. With several, their answers collide on the wire (garbled
 * frames, counted as such) and the reader is told to probe one meter at a time.
 */
export async function findAddress(c: BusConnection, request: Buffer, awaited: Awaited<string>, log: Logger): Promise<{ lines: string[]; address?: string }> {
  const link = new BusLink(busEndpoint(c), busOptions(c), log);
  await link.start();
  const where = `${c.protocol} bus ${c.id} (${link.describe()})`;
  try {
    if (link.state !== 'connected') return { lines: [`${where}: cannot connect (${link.lastError ?? link.state})`] };
    const address = await link.exchange(request, awaited, Math.max(c.timeout, 2000));
    return { lines: [`${where}: one meter answered the wildcard read: address ${address}`, `  devices: [{ …, connection: ${c.id}, address: "${address}" }]`], address };
  } catch (err) {
    const garbled = link.counters.checksum + link.counters.framing + link.counters.garbage;
    const why = err instanceof BusError && err.code === 'BUS_TIMEOUT' ? (garbled > 0 ? 'answers collided (more than one meter on the bus?): connect one meter at a time' : 'no meter answered') : (err as Error).message;
    return { lines: [`${where}: ${why}`] };
  } finally {
    await link.stop();
  }
}
