import pino from 'pino';
import { Registry } from 'prom-client';
import { systemClock } from '../../../gateway/model/clock.js';
import { createSinks, sinkId } from '../../../gateway/sinks/index.js';
import { Store } from '../../../gateway/store/store.js';
import { configWith, drained, writeDay, type DayOptions } from './fixtures.js';

/**
 * A gateway reduced to its store and sinks, as a separate process (crash and many-sites tests):
 * FCGW_SINK_CHILD = {store, site, sinks, generate?, exitWhenDrained?}. Prints one JSON line when
 * started and one with the samples it delivered when it exits after draining.
 */
interface ChildOptions {
  store: string;
  site: string;
  sinks: Record<string, unknown>[];
  generate?: Omit<DayOptions, 'site'>;
  exitWhenDrained?: boolean;
}

const o = JSON.parse(process.env['FCGW_SINK_CHILD'] ?? '{}') as ChildOptions;
const store = Store.open({ path: o.store, site: o.site });
if (o.generate) writeDay(store, { ...o.generate, site: o.site });
const config = configWith(o.site, o.sinks);
const registry = new Registry();
const sinks = createSinks(config, store, { clock: systemClock, log: pino({ level: 'warn' }, pino.destination(2)), registry });
await sinks.start();
process.stdout.write(`${JSON.stringify({ started: true, max: store.maxSeq() })}\n`);

const finish = async (code: number) => {
  await sinks.stop();
  const sent = await registry.getSingleMetric('fcgw_sink_sent_total')?.get();
  process.stdout.write(`${JSON.stringify({ sent: sent?.values.filter((v) => v.labels['log'] === 'samples').reduce((a, v) => a + v.value, 0) ?? 0 })}\n`);
  store.close();
  process.exit(code);
};
process.once('SIGTERM', () => void finish(0));
if (o.exitWhenDrained) {
  const consumers = config.sinks.map((s) => `sink:${sinkId(s)}`);
  const timer = setInterval(() => {
    if (consumers.every((c) => drained(store, c))) {
      clearInterval(timer);
      void finish(0);
    }
  }, 20);
}
