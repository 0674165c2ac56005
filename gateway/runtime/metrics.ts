import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * The gateway's Prometheus metrics on one registry (served at /metrics). Modules that add
 * their own metrics (sinks, KPI) register them on `registry`.
 */
export class GatewayMetrics {
  readonly registry = new Registry();
  readonly samplesIngested: Counter<'class' | 'quality'>;
  readonly eventsIngested: Counter<'class' | 'type'>;
  readonly rejections: Counter<'reason'>;
  readonly samplesFlagged: Counter<'class' | 'reason'>;
  readonly duplicates: Counter<'kind'>;
  readonly ingestBatches: Counter;
  readonly commitSeconds: Histogram;
  readonly queueDepth: Gauge<'queue'>;
  readonly storeBytes: Gauge;
  readonly storeRows: Gauge<'table'>;
  readonly walBytes: Gauge;
  readonly storeDropped: Counter<'reason'>;
  readonly storeExpired: Counter<'table'>;
  readonly pollSeconds: Histogram<'connection'>;
  readonly linkErrors: Counter<'connection' | 'kind'>;
  readonly driverMessages: Counter<'connection'>;
  readonly liveClients: Gauge;
  readonly apiRefused: Counter<'reason'>;
  readonly liveRefused: Counter<'reason'>;
  readonly liveDropped: Counter<'reason'>;
  readonly brokerConnectionsRefused: Counter<'reason'>;
  readonly brokerPublishRefused: Counter<'user' | 'topic' | 'reason'>;
  readonly brokerSubscribeRefused: Counter<'user'>;

  constructor(opts: { defaults?: boolean } = {}) {
    const registers = [this.registry];
    // The event-loop delay histogram samples every 100 ms, not prom-client's 10 ms: 100 timer
    // wake-ups a second were a large share of an idle gateway's CPU, and a stall worth seeing
    // on a gateway lasts longer than 100 ms.
    if (opts.defaults !== false) collectDefaultMetrics({ register: this.registry, prefix: 'fcgw_process_', eventLoopMonitoringPrecision: 100 });
    this.samplesIngested = new Counter({
      name: 'fcgw_ingest_samples_total',
      help: 'Samples committed to the store',
      labelNames: ['class', 'quality'],
      registers,
    });
    this.eventsIngested = new Counter({
      name: 'fcgw_ingest_events_total',
      help: 'Events committed to the store',
      labelNames: ['class', 'type'],
      registers,
    });
    this.rejections = new Counter({
      name: 'fcgw_ingest_rejections_total',
      help: 'Inputs rejected, by reason',
      labelNames: ['reason'],
      registers,
    });
    this.samplesFlagged = new Counter({
      name: 'fcgw_ingest_flagged_samples_total',
      help: 'Samples committed with quality uncertain or bad, by reason (implausible, out_of_range, not_implemented…)',
      labelNames: ['class', 'reason'],
      registers,
    });
    this.duplicates = new Counter({
      name: 'fcgw_ingest_duplicates_total',
      help: 'Copies of data already stored, kept once: kind message (a redelivered or relayed message), sample (same series, time and value), event (same event)',
      labelNames: ['kind'],
      registers,
    });
    this.ingestBatches = new Counter({ name: 'fcgw_ingest_batches_total', help: 'Store transactions', registers });
    this.commitSeconds = new Histogram({
      name: 'fcgw_ingest_commit_seconds',
      help: 'Time to normalise and commit one batch',
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers,
    });
    this.queueDepth = new Gauge({
      name: 'fcgw_queue_depth',
      help: 'Items waiting in a bounded queue',
      labelNames: ['queue'],
      registers,
    });
    this.storeBytes = new Gauge({ name: 'fcgw_store_bytes', help: 'Bytes the store uses', registers });
    this.storeRows = new Gauge({ name: 'fcgw_store_rows', help: 'Rows in the store', labelNames: ['table'], registers });
    this.walBytes = new Gauge({ name: 'fcgw_store_wal_bytes', help: 'Size of the write-ahead log not yet folded into the database (checkpoints keep it small)', registers });
    this.storeDropped = new Counter({
      name: 'fcgw_store_dropped_total',
      help: 'Rows dropped before every consumer had them (disk cap)',
      labelNames: ['reason'],
      registers,
    });
    this.storeExpired = new Counter({
      name: 'fcgw_store_expired_total',
      help: 'Rows removed by retention after every consumer had them',
      labelNames: ['table'],
      registers,
    });
    this.pollSeconds = new Histogram({
      name: 'fcgw_poll_seconds',
      help: 'Device request round trip',
      labelNames: ['connection'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    });
    this.linkErrors = new Counter({
      name: 'fcgw_link_errors_total',
      help: 'Link and device errors, by kind',
      labelNames: ['connection', 'kind'],
      registers,
    });
    this.driverMessages = new Counter({
      name: 'fcgw_driver_messages_total',
      help: 'Messages received or requests completed by a driver',
      labelNames: ['connection'],
      registers,
    });
    this.liveClients = new Gauge({ name: 'fcgw_live_clients', help: 'Connected /api/live clients', registers });
    this.apiRefused = new Counter({
      name: 'fcgw_api_refused_total',
      help: 'API requests refused before any data: no or bad token (unauthorised), token without the scope (forbidden), Host not allowed (host)',
      labelNames: ['reason'],
      registers,
    });
    this.liveRefused = new Counter({
      name: 'fcgw_live_refused_total',
      help: '/api/live streams refused at a cap: all streams (total, 503) or one client address (per_client, 429)',
      labelNames: ['reason'],
      registers,
    });
    this.liveDropped = new Counter({
      name: 'fcgw_live_dropped_total',
      help: '/api/live streams closed by the gateway: a reader that fell behind its buffer bound (slow_reader)',
      labelNames: ['reason'],
      registers,
    });
    this.brokerConnectionsRefused = new Counter({
      name: 'fcgw_broker_connections_refused_total',
      help: 'Embedded broker sockets closed or logins refused, by reason',
      labelNames: ['reason'],
      registers,
    });
    this.brokerPublishRefused = new Counter({
      name: 'fcgw_broker_publish_refused_total',
      help: 'PUBLISH packets the embedded broker refused, by user, topic (the first 1000 pairs; then "(other)") and reason',
      labelNames: ['user', 'topic', 'reason'],
      registers,
    });
    this.brokerSubscribeRefused = new Counter({
      name: 'fcgw_broker_subscribe_refused_total',
      help: 'Subscriptions the embedded broker refused (SUBACK 0x80), by user',
      labelNames: ['user'],
      registers,
    });
  }
}
