import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/**
 * Prometheus metrics of the sinks on the gateway's shared registry. Looked up before they are
 * made, so several sink sets on one registry (tests, a reload) share them instead of throwing.
 */
export class SinkMetrics {
  readonly backlog: Gauge<'sink' | 'log'>;
  readonly backlogAge: Gauge<'sink'>;
  readonly writeSeconds: Histogram<'sink'>;
  readonly errors: Counter<'sink' | 'code'>;
  readonly sent: Counter<'sink' | 'log'>;
  readonly deadLetters: Counter<'sink'>;

  constructor(registry: Registry) {
    const registers = [registry];
    const get = <T>(name: string, make: () => T): T => (registry.getSingleMetric(name) as T | undefined) ?? make();
    this.backlog = get('fcgw_sink_backlog', () => new Gauge({ name: 'fcgw_sink_backlog', help: 'Records in the store not yet acknowledged by a sink', labelNames: ['sink', 'log'], registers }));
    this.backlogAge = get('fcgw_sink_backlog_age_seconds', () => new Gauge({ name: 'fcgw_sink_backlog_age_seconds', help: 'Age of the oldest record a sink has not delivered (0 when caught up)', labelNames: ['sink'], registers }));
    this.writeSeconds = get('fcgw_sink_write_seconds', () => new Histogram({
      name: 'fcgw_sink_write_seconds',
      help: 'Time from sending a batch to its acknowledgement',
      labelNames: ['sink'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
      registers,
    }));
    this.errors = get('fcgw_sink_errors_total', () => new Counter({ name: 'fcgw_sink_errors_total', help: 'Failed deliveries, by error code', labelNames: ['sink', 'code'], registers }));
    this.sent = get('fcgw_sink_sent_total', () => new Counter({ name: 'fcgw_sink_sent_total', help: 'Records acknowledged by the remote end', labelNames: ['sink', 'log'], registers }));
    this.deadLetters = get('fcgw_sink_dead_letters_total', () => new Counter({ name: 'fcgw_sink_dead_letters_total', help: 'Records the remote end refused for good, kept in sink_dead_letters', labelNames: ['sink'], registers }));
  }
}
