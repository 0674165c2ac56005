import type { Logger } from 'pino';
import type { Driver, DriverHealth } from '../../drivers/core/driver.js';
import type { Profile } from '../../drivers/profiles/schema.js';
import type { LiveHub } from '../api/live.js';
import type { DeviceConfig, GatewayConfig } from '../config/schema.js';
import type { Clock } from '../model/clock.js';
import type { Store } from '../store/store.js';
import { ControlService } from './service.js';
import { SurplusControl } from './surplus.js';

export { ControlService } from './service.js';
export { SurplusControl } from './surplus.js';
export { controlApiPlugins } from './routes.js';
export { controlSchema, type ControlConfig } from './schema.js';

export interface ControlParts {
  config: () => Readonly<GatewayConfig>;
  device(id: string): { config: DeviceConfig; profile: Profile } | undefined;
  driver(connection: string): Driver | undefined;
  driverHealth(): DriverHealth[];
  store: Store;
  live: LiveHub;
  clock: Clock;
  log: Logger;
  /** Wake the sinks after an audit event was stored. */
  notifySinks(): void;
}

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
