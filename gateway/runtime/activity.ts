import type { DriverHealth } from '../../drivers/core/driver.js';
import type { Profile } from '../../drivers/profiles/schema.js';
import { deviceStatus, type DeviceView } from '../api/server.js';
import type { DeviceConfig, GatewayConfig } from '../config/schema.js';
import type { GatewayEvent } from '../model/types.js';
import type { StalenessTracker } from '../pipeline/staleness.js';
import type { Store } from '../store/store.js';
import type { DeviceRegistry } from './devices.js';

/**
 * When each device was last heard from: its newest sample (the store's latest values) or its
 * newest event (barrier gates and the logistics platform send nothing else), for the device
 * list and for staleness across a restart.
 */
export class DeviceActivity {
  private readonly lastEventAt = new Map<string, number>();

  constructor(
    private readonly store: Store,
    private readonly devices: DeviceRegistry,
    private readonly staleness: StalenessTracker,
  ) {}

  /** Committed events (called on every commit). */
  noteEvents(events: readonly GatewayEvent[], now: number): void {
    for (const e of events) this.lastEventAt.set(e.device, now);
  }

  /**
   * What the store knows from before a restart. Devices found by discovery come back while their
   * rule still exists, so a sensor that went quiet stays listed instead of vanishing; and every
   * device's last report counts for staleness, so one that stayed silent across the restart goes
   * stale at the first sweep instead of showing its old values as good.
   */
  restore(config: Readonly<GatewayConfig>, profiles: ReadonlyMap<string, Profile>, now: number): void {
    for (const rec of this.store.listDevices()) {
      if (!rec.discovered || this.devices.get(rec.id)) continue;
      const rule = config.discover.find((r) => r.connection === rec.connection && r.profile === rec.profile && r.class === rec.class);
      const profile = profiles.get(rec.profile);
      if (!rule || !profile) continue;
      const device: DeviceConfig = { id: rec.id, class: rec.class, connection: rec.connection, profile: rec.profile, tags: rec.tags, options: {}, enabled: true };
      if (rule.stale_after !== undefined) device.stale_after = rule.stale_after;
      this.devices.add(device, profile, true);
    }
    // Once per start: each device's newest event (the index on events begins with the device).
    for (const [device, ts] of this.store.reads.lastEventPerDevice()) this.lastEventAt.set(device, ts);
    const samples = this.store.reads.deviceActivity();
    for (const d of this.devices.all()) {
      const at = this.lastSeen(d.config.id, samples.get(d.config.id)?.lastSeen);
      if (at !== undefined) this.staleness.seen(d.config.id, Math.min(at, now));
    }
  }

  /** Every known device as the API lists it, with the drivers' view of each. */
  views(drivers: readonly DriverHealth[]): DeviceView[] {
    const samples = this.store.reads.deviceActivity();
    const driverStates = new Map<string, { state: string; error?: string }>();
    for (const h of drivers) for (const d of h.devices) driverStates.set(d.id, d);
    return this.devices.all().map(({ config: d, profile }) => {
      const a = samples.get(d.id);
      const ds = driverStates.get(d.id);
      const seen = this.lastSeen(d.id, a?.lastSeen);
      const view: DeviceView = {
        id: d.id,
        class: d.class,
        connection: d.connection,
        profile: profile.id,
        tags: d.tags,
        status: deviceStatus(seen, ds?.state, this.staleness.isStale(d.id)),
        lastSeen: seen !== undefined ? new Date(seen).toISOString() : null,
        quality: a?.quality ?? null,
      };
      if (d.name) view.name = d.name;
      if (ds?.error) view.error = ds.error;
      return view;
    });
  }

  /** The newer of a device's last sample and its last event. */
  private lastSeen(id: string, lastSample: number | undefined): number | undefined {
    const ev = this.lastEventAt.get(id);
    if (ev === undefined) return lastSample;
    return lastSample === undefined ? ev : Math.max(ev, lastSample);
  }
}
