import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { systemClock } from '../../../gateway/model/clock.js';
import { ModbusRtuTcpSimServer } from '../../../simulators/servers/modbus-rtu-tcp.js';
import { ModbusTcpSimServer } from '../../../simulators/servers/modbus-tcp.js';
import { freePort } from '../../helpers/peers.js';
import { station, stationScenario } from './harness.js';

/** Local addresses the kernel has a listening TCP socket on for `port` (from `ss`). */
function listeningOn(port: number): string[] {
  const out = execFileSync('ss', ['-ltnH', `sport = :${port}`], { encoding: 'utf8' });
  return out
    .split('\n')
    .filter(Boolean)
    .map((l) => (l.trim().split(/\s+/)[3] ?? '').replace(/:\d+$/, ''));
}

/**
 * Simulators listen on loopback unless a scenario says otherwise: the demo's OPC UA station
 * offers security None and anonymous access, and a LAN must not reach it.
 */
describe('simulators listen on loopback by default', () => {
  it('the OPC UA station (the demo scenario has no host)', async () => {
    const port = await freePort();
    const g = station(stationScenario(port), systemClock);
    await g.start();
    try {
      expect(listeningOn(port)).toEqual(['127.0.0.1']);
    } finally {
      await g.stop();
    }
  }, 60_000);

  it('the Modbus TCP and RTU-over-TCP servers', async () => {
    const [a, b] = [await freePort(), await freePort()];
    const tcp = new ModbusTcpSimServer(new Map() as never, { port: a });
    const rtu = new ModbusRtuTcpSimServer(new Map() as never, { port: b });
    await tcp.start();
    await rtu.start();
    try {
      expect([listeningOn(a), listeningOn(b)]).toEqual([['127.0.0.1'], ['127.0.0.1']]);
    } finally {
      await tcp.stop();
      await rtu.stop();
    }
  });
});
