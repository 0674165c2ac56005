import type { DeviceConfig } from '../config/schema.js';
import type { Profile } from '../../drivers/profiles/schema.js';
import type { Store } from '../store/store.js';

export interface RegisteredDevice {
  config: DeviceConfig;
  profile: Profile;
  discovered: boolean;
}

/**
 * Devices the gateway knows: from config, plus those found at run time (discovery), bounded.
 * Every known device is recorded in the store with its static tags (sinks read them there).
 */
export class DeviceRegistry {
  private readonly devices = new Map<string, RegisteredDevice>();
  private discoveredCount = 0;

  constructor(
    private readonly store: Store,
    private readonly maxDiscovered = 50_000,
  ) {}

  add(config: DeviceConfig, profile: Profile, discovered: boolean): boolean {
    const existing = this.devices.get(config.id);
    if (existing) return existing.config.class === config.class;
    if (discovered && this.discoveredCount >= this.maxDiscovered) return false;
    this.devices.set(config.id, { config, profile, discovered });
    if (discovered) this.discoveredCount++;
    this.store.upsertDevice({
      id: config.id,
      class: config.class,
      connection: config.connection,
      profile: profile.id,
      tags: config.tags,
      discovered,
    });
    return true;
  }

  /** Forget a device (a reload removed it or restarts its connection). Its history stays in the store. */
  remove(id: string): void {
    const d = this.devices.get(id);
    if (!d) return;
    this.devices.delete(id);
    if (d.discovered) this.discoveredCount--;
  }

  /** Forget `out`, then register `into` (a reload's change to some connections, and its undo). */
  swap(out: readonly RegisteredDevice[], into: readonly RegisteredDevice[]): void {
    for (const d of out) this.remove(d.config.id);
    for (const d of into) this.add(d.config, d.profile, d.discovered);
  }

  get(id: string): RegisteredDevice | undefined {
    return this.devices.get(id);
  }

  classOf(id: string): string | undefined {
    return this.devices.get(id)?.config.class;
  }

  all(): RegisteredDevice[] {
    return [...this.devices.values()];
  }
}
