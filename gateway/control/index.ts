import type { GatewayConfig } from '../config/schema.js';
import { ControlService, type ControlDeps } from './service.js';
import { SurplusControl } from './surplus.js';

export { ControlService } from './service.js';
export { SurplusControl } from './surplus.js';
export { controlApiPlugins } from './routes.js';
export { controlSchema, type ControlConfig } from './schema.js';

/** What the composition root hands over: the service's own dependencies, with the config whole. */
export type ControlParts = Omit<ControlDeps, 'control' | 'retentionMs' | 'emit'> & {
  config: () => Readonly<GatewayConfig>;
  /** Wake the sinks after an audit event was stored. */
  notifySinks(): void;
};

/** The command service and the surplus engine over it, started (the engine only when enabled). */
export function startControl(p: ControlParts): { control: ControlService; surplus: SurplusControl; stop(): void } {
  const control = new ControlService({
    control: () => p.config().control,
    retentionMs: () => {
      const r = p.config().store.retention;
      return Math.max(r.raw, r.rollups, r.events);
    },
    device: p.device,
    driver: p.driver,
    driverHealth: p.driverHealth,
    store: p.store,
    live: p.live,
    clock: p.clock,
    log: p.log.child({ part: 'control' }),
    emit: (e) => {
      const event = { ...e, site: p.config().site.id };
      p.store.write([], [event]);
      p.live.publishCommitted([], [event]);
      p.notifySinks();
    },
  });
  control.start();
  const surplus = new SurplusControl({ config: () => p.config().control.surplus, control, store: p.store, clock: p.clock, log: p.log.child({ part: 'surplus' }) });
  surplus.start();
  return {
    control,
    surplus,
    stop: () => {
      surplus.stop();
      control.stop();
    },
  };
}
