import { COMPLETION_HORIZON, PAIRINGS, PROMISE_KPIS } from './transport.js';
import type { Logger } from 'pino';
import type { GatewayConfig, TargetConfig } from '../config/schema.js';
import type { Clock } from '../model/clock.js';
import { AlertKeeper, type AlertInstant, type AlertView } from './alerts.js';
import { KpiPass, type CalculatorOptions, type KpiResult } from './compute.js';
import type { KpiSettings } from './context.js';
import type { KpiWindow } from './names.js';
import type { KpiReads } from '../store/kpi-reads.js';
import type { Store } from '../store/store.js';
import { KpiStateDb } from './state-db.js';
import { judge, scopeText, targetKey, type TargetStatus } from './targets.js';
import { formatLocal, previousWindow, windowAt, windowsBetween, type KpiWindowSpan } from './windows.js';

/**
 * The KPI evaluator: on a timer (on the injected clock) it judges every target on its current
 * window, finalises windows as they close, re-judges closed windows that late or out-of-order
 * data fell into, and keeps target state and alerts in the store file so they survive restarts.
 */

export interface KpiEngineDeps {
  config: Readonly<GatewayConfig>;
  /** The store: its KPI reads, and the module's own tables through it. */
  store: Pick<Store, 'kpiReads' | 'ownTables'>;
  clock: Clock;
  log: Logger;
  /** Publishes an alert on MQTT; the app passes its broker's publish. Topic: fc/{site}/alerts. */
  publish?: (topic: string, payload: string) => void | Promise<void>;
  /** Every alert transition (the app forwards it to the live stream). */
  onAlert?: (alert: AlertView, at: AlertInstant) => void;
  /** Where a counter series wraps (catalog units), from the resolved site (gateway/site SiteFacts). */
  wrapOf?: (device: string, metric: string) => number | undefined;
}

/** A row of GET /api/kpis. */
export interface KpiRow {
  kpi: string;
  scene: string;
  window: KpiWindow;
  value: number | null;
  unit: string;
  coverage: number;
  target?: { min?: number; max?: number; min_coverage: number; hysteresis: number };
  /** met / missed against the target; unknown when coverage is too low, nothing was measured, or there is no target. */
  status: TargetStatus;
  reason?: string;
  scope: string;
  start: string;
  end: string;
  closed: boolean;
  series: string[];
  open?: number;
  beyond?: boolean;
  detail?: KpiResult['detail'];
}

/** Late data older than this many windows is not re-judged (bounded work per tick). */
const MAX_LATE_WINDOWS = 31;
/** An evaluation may use at most a fifth of the time between two (a month KPI can take a while). */
const DUTY = 5;

export function settingsOf(config: Readonly<GatewayConfig>): KpiSettings {
  const s: KpiSettings = {
    tz: config.site.timezone,
    emissionFactor: config.emission_factor.value,
    maxGap: config.kpi.max_gap,
    nightFlowThreshold: config.kpi.night_flow_threshold,
    nightFlowNights: config.kpi.night_flow_nights,
  };
  if (config.site.residents !== undefined) s.residents = config.site.residents;
  if (config.kpi.contract_demand !== undefined) s.contractDemand = config.kpi.contract_demand;
  s.transit = config.transit;
  return s;
}

/** Targets from config, plus peak demand ≤ contract (per day) when a contract is configured and no peak target is. */
export function effectiveTargets(config: Readonly<GatewayConfig>): TargetConfig[] {
  const list = [...config.targets];
  const contract = config.kpi.contract_demand;
  if (contract !== undefined && !list.some((t) => t.kpi === 'peak_demand')) {
    list.push({ kpi: 'peak_demand', window: 'day', max: contract, scope: { site: true }, min_coverage: 0.9, hysteresis: 0 });
  }
  return list;
}

/**
 * `wrapOf` is where each counter series wraps, in catalog units: what the device declares
 * (`options.counter_max` / `<metric>_max`) and its profile's register range, resolved once by
 * gateway/site (`SiteFacts.wrapOf`); the app and `fcgw report` pass it.
 */
export function calculatorOptions(config: Readonly<GatewayConfig>, wrapOf?: (device: string, metric: string) => number | undefined): CalculatorOptions {
  return {
    settings: settingsOf(config),
    configDevices: config.devices.map((d) => ({ id: d.id, class: d.class, tags: d.tags })),
    ...(wrapOf ? { wrapOf } : {}),
  };
}

export class KpiEngine {
  readonly targets: readonly TargetConfig[];
  private calc: CalculatorOptions;
  private readonly tz: string;
  private q: KpiReads | undefined;
  private db: KpiStateDb | undefined;
  private keeper: AlertKeeper | undefined;
  private timer: NodeJS.Timeout | undefined;
  private nextDue = 0;
  private notBefore = 0;

  constructor(private readonly deps: KpiEngineDeps) {
    this.targets = effectiveTargets(deps.config);
    this.calc = calculatorOptions(deps.config, deps.wrapOf);
    this.tz = deps.config.site.timezone;
  }

  /** A reload changed the devices (their tags, options, classes): later passes use the new list. */
  setDevices(config: Readonly<GatewayConfig>): void {
    this.calc = calculatorOptions(config, this.deps.wrapOf);
  }

  private open(): { q: KpiReads; db: KpiStateDb; keeper: AlertKeeper } {
    if (!this.q || !this.db || !this.keeper) {
      this.q = this.deps.store.kpiReads();
      this.db = new KpiStateDb(this.deps.store);
      const sinks = { log: this.deps.log, tz: this.tz, site: this.deps.config.site.id };
      this.keeper = new AlertKeeper(this.db, {
        ...sinks,
        ...(this.deps.publish ? { publish: this.deps.publish } : {}),
        ...(this.deps.onAlert ? { onAlert: this.deps.onAlert } : {}),
      });
      // A first start judges from now on; history is not replayed as "late data".
      if (this.db.meta('cursor') === undefined) this.db.setMeta('cursor', JSON.stringify(this.q.maxSeq()));
      this.keeper.retireOthers(this.targets, this.deps.clock.now());
    }
    return { q: this.q, db: this.db, keeper: this.keeper };
  }

  /** Evaluate now, then every kpi.evaluate_every of the injected clock (polled, so accelerated clocks work). */
  start(): void {
    if (this.timer) return;
    this.open();
    this.tick();
    const every = this.deps.config.kpi.evaluate_every;
    this.timer = setInterval(() => this.tick(), Math.max(50, Math.min(every, 1000)));
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  private tick(): void {
    const now = this.deps.clock.now();
    // A clock stepped back (NTP on a box without a battery clock) makes the evaluation due, not
    // a wait of the step's length; the duty pause is on the monotonic clock for the same reason.
    const every = this.deps.config.kpi.evaluate_every;
    const due = now >= this.nextDue || now < this.nextDue - every;
    if (!due || performance.now() < this.notBefore) return;
    const t0 = performance.now();
    try {
      this.evaluate(now);
    } catch (err) {
      this.deps.log.error({ err }, 'KPI evaluation failed');
    }
    const cost = performance.now() - t0;
    this.nextDue = now + every;
    this.notBefore = performance.now() + cost * (DUTY - 1);
  }

  /** One evaluation of every target at `now`. Returns how many (target, window) pairs were judged. */
  evaluate(now = this.deps.clock.now()): number {
    const { q, db, keeper } = this.open();
    const cursor = JSON.parse(db.meta('cursor') ?? '{"samples":0,"events":0}') as { samples: number; events: number };
    const fresh = q.newData(cursor);
    // A completion pairs with its start wherever that lies: the closed window of its start is judged again.
    const paired = PAIRINGS.flatMap((p) => q.pairedStarts(cursor.events, p, COMPLETION_HORIZON));
    const pass = new KpiPass(q, now, this.calc);
    let judged = 0;
    db.transaction(() => {
      for (const t of this.targets) {
        const key = targetKey(t);
        const cur = windowAt(t.window, now, this.tz);
        if (t.window !== '15m') {
          const prev = previousWindow(cur);
          const prevRow = db.window(key, prev.start);
          const late =
            fresh.lo !== null && fresh.lo < cur.start
              ? windowsBetween(t.window, fresh.lo, Math.min((fresh.hi ?? fresh.lo) + 1, cur.start), this.tz, MAX_LATE_WINDOWS)
              : [];
          if (PROMISE_KPIS.has(t.kpi)) addStartWindows(late, paired, t.window, cur.start, this.tz);
          if (!prevRow?.final) {
            // The window just closed: its final verdict goes through the target's state machine
            // (on a target's very first evaluation it is only recorded: nobody watched it run).
            const r = this.one(pass, t, prev);
            const v = db.target(key) ? keeper.feed(t, r, now) : judge(r, t);
            db.putWindow({ target: key, windowStart: prev.start, windowEnd: prev.end, status: v.status, value: r.value, coverage: r.coverage, reason: v.reason ?? null, final: true }, now);
            judged++;
          }
          for (const w of late) {
            if (w.start === prev.start && !prevRow?.final) continue;
            const old = db.window(key, w.start);
            const r = this.one(pass, t, w);
            const v = keeper.revise(t, r, old?.status, now);
            db.putWindow({ target: key, windowStart: w.start, windowEnd: w.end, status: v.status, value: r.value, coverage: r.coverage, reason: v.reason ?? null, final: true }, now);
            judged++;
          }
        }
        const r = this.one(pass, t, cur);
        const v = keeper.feed(t, r, now);
        const start = t.window === '15m' ? 0 : cur.start;
        db.putWindow({ target: key, windowStart: start, windowEnd: cur.end, status: v.status, value: r.value, coverage: r.coverage, reason: v.reason ?? null, final: false }, now);
        judged++;
      }
      db.setMeta('cursor', JSON.stringify({ samples: fresh.samples, events: fresh.events }));
      db.prune(now - this.deps.config.store.retention.events);
    });
    return judged;
  }

  private one(pass: KpiPass, t: TargetConfig, w: KpiWindowSpan): KpiResult {
    const [r] = pass.compute(w, t.scope, [t.kpi]);
    if (!r) throw new Error(`KPI ${t.kpi} has no definition`);
    return r;
  }

  /** Site KPIs over the window of `kind` containing `at`, plus every target of that window kind. */
  kpis(kind: KpiWindow, at?: number): KpiRow[] {
    const { q, db } = this.open();
    const now = this.deps.clock.now();
    const w = windowAt(kind, at ?? now, this.tz);
    const pass = new KpiPass(q, now, this.calc);
    const rows: KpiRow[] = [];
    const targets = this.targets.filter((t) => t.window === kind);
    for (const r of pass.compute(w, { site: true })) {
      const own = targets.filter((t) => t.kpi === r.kpi && 'site' in t.scope);
      if (own.length === 0) rows.push(this.row(r));
      for (const t of own) rows.push(this.row(r, t, this.lastKnown(db, t, w, now)));
    }
    for (const t of targets.filter((x) => !('site' in x.scope))) {
      const [r] = pass.compute(w, t.scope, [t.kpi]);
      if (r) rows.push(this.row(r, t, this.lastKnown(db, t, w, now)));
    }
    return rows;
  }

  /** The status hysteresis works from: the machine's for the current window, the stored verdict for a past one. */
  private lastKnown(db: KpiStateDb, t: TargetConfig, w: KpiWindowSpan, now: number): TargetStatus | undefined {
    const key = targetKey(t);
    if (w.kind === '15m' || w.end > now) return db.target(key)?.known ?? undefined;
    const s = db.window(key, w.start)?.status;
    return s === 'unknown' ? undefined : s;
  }

  private row(r: KpiResult, t?: TargetConfig, lastKnown?: TargetStatus): KpiRow {
    const row: KpiRow = {
      kpi: r.kpi,
      scene: r.scene,
      window: r.window,
      value: r.value,
      unit: r.unit,
      coverage: r.coverage,
      status: 'unknown',
      scope: scopeText(r.scope),
      start: formatLocal(r.start, this.tz),
      end: formatLocal(r.end, this.tz),
      closed: r.closed,
      series: r.series,
    };
    if (r.open !== undefined) row.open = r.open;
    if (r.beyond) row.beyond = true;
    if (r.detail) row.detail = r.detail;
    if (t) {
      const v = judge(r, t, lastKnown);
      row.status = v.status;
      if (v.reason) row.reason = v.reason;
      row.target = { min_coverage: t.min_coverage, hysteresis: t.hysteresis };
      if (t.min !== undefined) row.target.min = t.min;
      if (t.max !== undefined) row.target.max = t.max;
    } else row.reason = 'no_target';
    return row;
  }

  alerts(limit = 200): AlertView[] {
    return this.open().keeper.list(limit);
  }
}

export function createKpiEngine(deps: KpiEngineDeps): KpiEngine {
  return new KpiEngine(deps);
}

/** Windows of paired starts that closed before `before` and are not in `late` yet, added in time order (bounded). */
function addStartWindows(late: KpiWindowSpan[], starts: readonly number[], kind: KpiWindowSpan['kind'], before: number, tz: string): void {
  const have = new Set(late.map((w) => w.start));
  for (const ts of starts) {
    if (ts >= before || late.length >= 2 * MAX_LATE_WINDOWS) continue;
    const w = windowAt(kind, ts, tz);
    if (have.has(w.start)) continue;
    have.add(w.start);
    late.push(w);
  }
  late.sort((a, b) => a.start - b.start);
}
