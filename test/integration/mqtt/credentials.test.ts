import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../../helpers/peers.js';
import { collector, config, driverFor, startAedes } from './harness.js';

/**
 * A connection URL with credentials inside (`mqtt://user:pass@host`): the credentials are used
 * (as mqtt.js would) and never shown: not in the log on any (re)connect, not in health, not in
 * explain.
 */
describe('MQTT driver: credentials inside the connection URL', () => {
  let broker: Awaited<ReturnType<typeof startAedes>>;
  const SECRET = 'Zx9-s3cret-pw';
  beforeAll(async () => {
    broker = await startAedes();
    broker.aedes.authenticate = (_client, username, password, done) => {
      const ok = username === 'dev' && password?.toString() === SECRET;
      done(ok ? null : Object.assign(new Error('bad'), { returnCode: 4 }), ok);
    };
  });
  afterAll(async () => {
    await broker.stop();
  });

  const url = (pw: string) => `mqtt://dev:${encodeURIComponent(pw)}@127.0.0.1:${broker.port}`;

  it('connects with them and logs the URL with the password redacted', async () => {
    const c = collector();
    const cfg = config(`
connections: [{ id: local, protocol: mqtt, url: "${url(SECRET)}", reconnect_min: 50ms, reconnect_max: 100ms }]
devices: [{ id: space-1, class: parking_space, connection: local, profile: generic-json }]
`);
    const driver = driverFor(cfg, c.ctx);
    await driver.start();
    expect(driver.health().state).toBe('connected');
    expect(c.logText()).toContain(`mqtt://dev:***@127.0.0.1:${broker.port}`);
    expect(c.logText()).not.toContain(SECRET);
    expect(driver.explain?.('space-1').join('\n')).not.toContain(SECRET);
    await driver.stop();
  });

  it('a refused password is never shown, however often it reconnects', async () => {
    const c = collector();
    const wrong = 'Wr0ng-pass-word';
    const cfg = config(`
connections: [{ id: local, protocol: mqtt, url: "${url(wrong)}", reconnect_min: 20ms, reconnect_max: 40ms }]
devices: [{ id: space-1, class: parking_space, connection: local, profile: generic-json }]
`);
    const driver = driverFor(cfg, c.ctx);
    await driver.start();
    await waitFor(() => (c.logText().match(/MQTT connection lost/g) ?? []).length >= 3, 5_000);
    expect(driver.health().error).toMatch(/bad username or password/);
    expect(JSON.stringify(driver.health())).not.toContain(wrong);
    expect(c.logText()).not.toContain(wrong);
    expect(c.logText()).toContain('dev:***@');
    await driver.stop();
  });
});
