import type { Logger } from 'pino';
import type { Profile } from '../../drivers/profiles/schema.js';
import type { GatewayConfig } from '../config/schema.js';
import type { KpiEngine } from '../kpi/index.js';
import type { StalenessTracker } from '../pipeline/staleness.js';
import type { Sinks } from '../sinks/index.js';
import type { DeviceRegistry, RegisteredDevice } from './devices.js';
import { configSource, type DriverSet } from './driver-set.js';
import { GatewayError } from './errors.js';
import type { ResolvedSite } from '../site/index.js';
import { planReload, type ReconfigureResult } from './reload-plan.js';

/** What a reload reads and swaps in the running gateway (app.ts hands these over). */
export interface Reloadable {
  log: Logger;
  devices: DeviceRegistry;
  drivers: DriverSet;
  staleness: StalenessTracker;
  /** Holds device publishes unacknowledged while a connection on it is swapped. */
  broker?: { hold(): void; open(): void } | undefined;
  config: Readonly<GatewayConfig>;
  /** The resolved site in force (its profiles, and device facts for the pipeline and the KPIs) and its swap. */
  readonly site: ResolvedSite;
  useSite(site: ResolvedSite): void;
  sinks: Sinks | undefined;
  kpi: KpiEngine | undefined;
  /** The consumers in the store's cursors table (a new sink adds its own when it starts). */
  cursors: { list(): string[]; drop(consumer: string): void };
  /** Built, not started (no I/O). */
  buildSinks(cfg: Readonly<GatewayConfig>): Sinks;
  buildKpi(cfg: Readonly<GatewayConfig>): KpiEngine;
}

/** One step of the swap: `apply` may fail part way; `revert` puts back what was there, from any point of apply. */
interface Step {
  name: 'kpi' | 'sinks' | 'drivers';
  apply(): Promise<void>;
  revert(): Promise<void>;
}

/**
 * Apply a new config in place, as a transaction (`kill -HUP`). First everything new is built
 * and validated without touching what runs: profiles, the plan, the sinks, the KPI engine and
 * the drivers of the connections that changed. Then the parts are swapped one step at a time,
 * the cheapest to undo first (KPI engine, sinks, drivers); if a step fails (a driver throws on
 * start, a sink cannot start) every step taken is undone in reverse and the gateway runs exactly
 * as before: the same drivers on the same devices and periods (rebuilt from the running config),
 * registry, sinks from their cursors, KPI engine and config pointer. The error says so
 * (RELOAD_FAILED), or says what could not be put back (RELOAD_ROLLBACK_FAILED).
 *
 * Only the connections whose settings, devices, discovery rules or profiles changed are
 * restarted; every other link keeps its socket, its session and its poll period. While an
 * embedded-broker connection is swapped the broker holds publishes unacknowledged, so nothing
 * is lost in between. A change to any other section cannot be applied in place: the result
 * says so and the caller restarts the gateway.
 */
export async function reconfigure(gw: Reloadable, site: ResolvedSite): Promise<ReconfigureResult> {
  const old = gw.config;
  const oldProfiles = gw.site.profiles;
  const oldSite = gw.site;
  // Validated already (gateway/site: the one validation); its profiles are the ones it checked.
  const next = site.config;
  const profiles = new Map(site.profiles);
  const plan = planReload(old, next, oldProfiles, profiles);
  if ('reason' in plan) return { applied: false, reason: plan.reason };
  const { changed, unchanged, kpi, sinks } = plan;
  const isChanged = (id: string) => changed.includes(id);

  // Build: a sink, an engine or a driver the new config cannot make stops the reload here.
  const freshKpi = kpi ? gw.buildKpi(next) : undefined;
  const freshSinks = sinks ? gw.buildSinks(next) : undefined;
  const freshDrivers = next.connections.filter((c) => isChanged(c.id)).map((c) => gw.drivers.create(c, configSource(next, profiles)));
  const removed = gw.devices.all().filter((d) => isChanged(d.config.connection) && (!d.discovered || !next.connections.some((c) => c.id === d.config.connection)));
  const added: RegisteredDevice[] = next.devices
    .filter((d) => d.enabled && isChanged(d.connection))
    .map((d) => ({ config: d, profile: profiles.get(d.profile) as Profile, discovered: false }));

  const steps: Step[] = [];
  if (freshKpi) steps.push(kpiStep(gw, freshKpi));
  if (freshSinks) steps.push(sinksStep(gw, freshSinks, () => gw.buildSinks(old)));
  if (changed.length) {
    const order = (c: Readonly<GatewayConfig>) => c.connections.map((x) => x.id);
    steps.push({
      name: 'drivers',
      apply: async () => {
        // The device facts (counter maxima, wraps) the new drivers' readings are judged by.
        gw.useSite(site);
        gw.devices.swap(removed, added);
        await gw.drivers.replace(changed, freshDrivers, order(next));
      },
      revert: async () => {
        // The running drivers were stopped: the same ones are built again from the running config.
        const back = old.connections.filter((c) => isChanged(c.id)).map((c) => gw.drivers.create(c, configSource(old, oldProfiles)));
        gw.devices.swap(added, removed);
        gw.useSite(oldSite);
        await gw.drivers.replace(changed, back, order(old));
      },
    });
  }

  const embedded = (c: Readonly<GatewayConfig>) => c.connections.some((x) => isChanged(x.id) && x.protocol === 'mqtt' && x.url === 'embedded');
  const hold = gw.broker && (embedded(old) || embedded(next)) ? gw.broker : undefined;
  hold?.hold();
  try {
    await runSteps(gw.log, steps);
  } finally {
    hold?.open();
  }

  gw.config = next;
  gw.useSite(site);
  // A device that is gone is not "quiet".
  for (const d of removed) if (!gw.devices.get(d.config.id)) gw.staleness.forget(d.config.id);
  if (!kpi) gw.kpi?.setDevices(next);
  return { applied: true, restarted: changed, unchanged, kpi, sinks };
}

async function runSteps(log: Logger, steps: readonly Step[]): Promise<void> {
  const done: Step[] = [];
  for (const step of steps) {
    try {
      await step.apply();
      done.push(step);
    } catch (err) {
      const unreverted: string[] = [];
      for (const s of [step, ...[...done].reverse()]) {
        try {
          await s.revert();
        } catch (revertErr) {
          unreverted.push(s.name);
          log.error({ err: revertErr, step: s.name }, `config reload: ${s.name} could not be put back as it was`);
        }
      }
      const why = err instanceof Error ? err.message : String(err);
      if (unreverted.length) {
        log.error({ err, step: step.name, unreverted }, `config reload failed at ${step.name} and could not be fully undone (${unreverted.join(', ')}): the gateway needs a restart`);
        throw new GatewayError('RELOAD_ROLLBACK_FAILED', `reload failed at ${step.name} (${why}); ${unreverted.join(', ')} could not be put back`, { cause: err });
      }
      log.error({ err, step: step.name, undone: done.map((s) => s.name) }, `config reload failed at ${step.name}; every part was put back as it was: the running config stays`);
      throw new GatewayError('RELOAD_FAILED', `reload failed at ${step.name} (${why}); the running config stays`, { cause: err });
    }
  }
}

/** The previous engine stops; the new one finds the targets' state in the store. */
function kpiStep(gw: Reloadable, fresh: KpiEngine): Step {
  const previous = gw.kpi;
  return {
    name: 'kpi',
    apply: async () => {
      previous?.stop();
      gw.kpi = fresh;
      fresh.start();
    },
    revert: async () => {
      fresh.stop();
      gw.kpi = previous;
      previous?.start();
    },
  };
}

/** Running sinks send what they can within 2 s and stop; the new ones start from their durable cursors. */
function sinksStep(gw: Reloadable, fresh: Sinks, rebuild: () => Sinks): Step {
  const previous = gw.sinks;
  const cursorsBefore = new Set(gw.cursors.list());
  const swap = async (from: Sinks | undefined, to: Sinks | undefined, flushMs: number) => {
    gw.sinks = undefined;
    await from?.stop({ flushMs }).catch((err: unknown) => gw.log.warn({ err }, 'error while stopping the sinks'));
    gw.sinks = to;
    await to?.start();
  };
  return {
    name: 'sinks',
    apply: () => swap(previous, fresh, 2_000),
    revert: async () => {
      // Undone without a flush: what the new sinks did not send is still after the cursors. The
      // cursor a new sink made goes again (it would hold back retention for a sink that never ran).
      await swap(fresh, undefined, 0);
      for (const c of gw.cursors.list()) if (!cursorsBefore.has(c)) gw.cursors.drop(c);
      // The running sinks were stopped: the same ones are built again from the running config (as
      // the drivers are), each resuming from its cursor; a stopped set is not started twice.
      await swap(undefined, previous ? rebuild() : undefined, 0);
    },
  };
}
