import { connectAsync, type MqttClient } from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import type { EmbeddedBroker } from '../../../gateway/broker/embedded.js';
import { hashPassword, verifyPassword } from '../../../gateway/broker/passwords.js';
import { counter, startBroker } from './helpers.js';

const meter = { username: 'meter', password_hash: hashPassword('s3cret-pass'), publish: ['meters/{username}/#'] };

/** CONNACK return code of a login attempt (0 = accepted). */
async function login(url: string, opts: { username?: string; password?: string; clientId?: string }): Promise<number> {
  try {
    const c = await connectAsync(url, { reconnectPeriod: 0, connectTimeout: 20_000, ...opts });
    await c.endAsync(true);
    return 0;
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    return typeof code === 'number' ? code : -1;
  }
}

describe('embedded broker: logins', () => {
  let broker: EmbeddedBroker | undefined;
  const clients: MqttClient[] = [];
  afterEach(async () => {
    for (const c of clients.splice(0)) await c.endAsync(true);
    await broker?.stop();
    broker = undefined;
  });

  it('refuses anonymous and wrong-password logins, accepts the right one', async () => {
    const started = await startBroker({ users: [meter] });
    broker = started.broker;
    expect(await login(broker.url, {})).toBe(4);
    expect(await login(broker.url, { username: 'meter', password: 'wrong' })).toBe(4);
    expect(await login(broker.url, { username: 'meter' })).toBe(4);
    expect(await login(broker.url, { username: 'meter', password: 's3cret-pass', clientId: 'meter' })).toBe(0);
    expect(await counter(started.metrics, 'fcgw_broker_connections_refused_total', { reason: 'bad_login' })).toBe(3);
  });

  it('checks an unknown user against a dummy hash of the same cost, never skips the check', async () => {
    const checked: string[] = [];
    const started = await startBroker(
      { users: [meter] },
      {
        verifyPassword: (pw, hash) => {
          checked.push(hash);
          return verifyPassword(pw, hash);
        },
      },
    );
    broker = started.broker;
    expect(await login(broker.url, { username: 'meter', password: 'wrong' })).toBe(4);
    expect(await login(broker.url, { username: 'nobody', password: 'wrong' })).toBe(4);
    expect(await login(broker.url, { username: 'ghost', password: 'wrong' })).toBe(4);
    expect(checked).toHaveLength(3);
    expect(checked[0]).toBe(meter.password_hash);
    // The same dummy for every unknown name, with the real hashes' parameters.
    expect(checked[1]).not.toBe(meter.password_hash);
    expect(checked[2]).toBe(checked[1]);
    expect(checked[1]?.split('$').slice(0, 4)).toEqual(meter.password_hash.split('$').slice(0, 4));
  });

  it('keeps the event loop running through 100 parallel wrong passwords, and refuses most of them unchecked', async () => {
    const started = await startBroker({ users: [meter], max_login_failures: 10, login_failure_window: '1m' });
    broker = started.broker;
    // A timer that should fire every 10 ms: its longest gap is how long the loop was blocked.
    let last = performance.now();
    let worst = 0;
    const probe = setInterval(() => {
      const now = performance.now();
      worst = Math.max(worst, now - last);
      last = now;
    }, 10);
    const url = broker.url;
    const codes = await Promise.all(Array.from({ length: 100 }, (_, i) => login(url, { username: 'meter', password: `guess-${i}` })));
    clearInterval(probe);
    expect(codes.every((c) => c === 4 || c === 5)).toBe(true);
    // 10 checked (bad login, 4), the other 90 refused before any scrypt (not authorised, 5).
    expect(codes.filter((c) => c === 5).length).toBe(90);
    expect(await counter(started.metrics, 'fcgw_broker_connections_refused_total', { reason: 'rate_limited' })).toBe(90);
    // Synchronous scrypt blocked for ~100 × 50 ms; on the thread pool no gap comes near that.
    expect(worst).toBeLessThan(500);
    // The right password from the same address waits for the window too; one refusal line per reason and address.
    expect(await login(url, { username: 'meter', password: 's3cret-pass', clientId: 'meter' })).toBe(5);
    expect(started.lines.filter((l) => l['msg'] === 'MQTT login refused' && l['reason'] === 'rate_limited')).toHaveLength(1);
  });

  it('lets an address log in again once its failures leave the window', async () => {
    let now = 1_000_000;
    const started = await startBroker({ users: [meter], max_login_failures: 2, login_failure_window: '10s' }, { now: () => now });
    broker = started.broker;
    expect(await login(broker.url, { username: 'meter', password: 'a' })).toBe(4);
    expect(await login(broker.url, { username: 'meter', password: 'b' })).toBe(4);
    expect(await login(broker.url, { username: 'meter', password: 's3cret-pass', clientId: 'meter' })).toBe(5);
    now += 10_001;
    expect(await login(broker.url, { username: 'meter', password: 's3cret-pass', clientId: 'meter' })).toBe(0);
  });

  it("the gateway's own clients get in even while their address is refused", async () => {
    const started = await startBroker({ users: [meter], max_login_failures: 1 });
    broker = started.broker;
    expect(await login(broker.url, { username: 'meter', password: 'x' })).toBe(4);
    expect(await login(broker.url, { username: 'meter', password: 'x' })).toBe(5);
    const own = broker.internalUser;
    expect(await login(broker.url, { username: own.username, password: own.password, clientId: 'fcgw-sink-x' })).toBe(0);
  });
});
