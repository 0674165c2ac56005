import mqtt, { type MqttClient } from 'mqtt';
import type { Logger } from 'pino';

/**
 * The MQTT side of the transport simulators: one client, QoS 1 by default, bounded. Publishing
 * never throws; a message that cannot be queued (too many unacknowledged) is dropped and counted.
 * `restart()` drops the connection abruptly and reconnects, as a broker restart looks to a device.
 */
export interface PublisherOptions {
  url: string;
  clientId: string;
  log: Logger;
  qos?: 0 | 1;
  username?: string;
  password?: string;
  /** Most messages waiting for a PUBACK (mqtt.js keeps them in memory while offline). */
  maxPending?: number;
}

export class MqttPublisher {
  private client: MqttClient | undefined;
  /** QoS 1 messages not yet acknowledged, sent again after every reconnect (a device's retry). */
  private readonly unacked = new Map<number, { topic: string; payload: string | Buffer }>();
  private seq = 0;
  /** Messages in flight when the connection was dropped on purpose: resent once it is back. */
  private resend: number[] = [];
  readonly stats = { published: 0, acked: 0, dropped: 0, errors: 0, restarts: 0 };

  constructor(private readonly opts: PublisherOptions) {}

  async start(): Promise<void> {
    if (this.client) return;
    const o: mqtt.IClientOptions = {
      clientId: this.opts.clientId,
      clean: false,
      reconnectPeriod: 1000,
      connectTimeout: 10_000,
      keepalive: 30,
    };
    if (this.opts.username !== undefined) o.username = this.opts.username;
    if (this.opts.password !== undefined) o.password = this.opts.password;
    const client = mqtt.connect(this.opts.url, o);
    this.client = client;
    client.on('connect', () => {
      // mqtt.js loses what it was writing when its socket is destroyed under it: resend that (the
      // gateway refuses the copies it already has as duplicates).
      for (const id of this.resend.splice(0)) this.send(id);
    });
    client.on('error', (err) => {
      this.stats.errors++;
      this.opts.log.debug({ err: err.message, client: this.opts.clientId }, 'simulator MQTT error');
    });
    // Do not hold up the scenario on a broker that is not there yet: mqtt.js queues and retries.
    await Promise.race([new Promise<void>((r) => client.once('connect', () => r())), new Promise((r) => setTimeout(r, 5_000).unref())]);
  }

  get connected(): boolean {
    return this.client?.connected ?? false;
  }

  get pending(): number {
    return this.unacked.size;
  }

  publish(topic: string, payload: string | Buffer, qos: 0 | 1 = this.opts.qos ?? 1): boolean {
    const client = this.client;
    if (!client || this.unacked.size >= (this.opts.maxPending ?? 50_000)) {
      this.stats.dropped++;
      return false;
    }
    this.stats.published++;
    if (qos === 0) {
      client.publish(topic, payload, { qos: 0 });
      return true;
    }
    const id = this.seq++;
    this.unacked.set(id, { topic, payload });
    this.send(id);
    return true;
  }

  private send(id: number): void {
    const m = this.unacked.get(id);
    if (!m || !this.client) return;
    this.client.publish(m.topic, m.payload, { qos: 1 }, (err) => {
      if (err) this.stats.errors++;
      else if (this.unacked.delete(id)) this.stats.acked++;
    });
  }

  /** Wait until every published message is acknowledged (or `timeoutMs` passes). */
  async drain(timeoutMs = 10_000): Promise<boolean> {
    const end = Date.now() + timeoutMs;
    while (this.pending > 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
    return this.pending === 0;
  }

  /** Fault: the connection drops without DISCONNECT; mqtt.js reconnects and resends what was not acknowledged. */
  restart(): void {
    const client = this.client;
    if (!client) return;
    this.stats.restarts++;
    this.resend = [...this.unacked.keys()];
    client.stream?.destroy();
  }

  async stop(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    if (!client) return;
    await Promise.race([new Promise<void>((r) => client.end(false, {}, () => r())), new Promise((r) => setTimeout(r, 3_000).unref())]);
    client.end(true);
    // Its error listener stays: a late 'error' from the ended client (a keepalive timer) must
    // not become an uncaught exception.
    client.removeAllListeners('connect');
  }
}
