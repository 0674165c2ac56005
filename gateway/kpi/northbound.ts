import type { Logger } from 'pino';
import type { GatewayConfig } from '../config/schema.js';
import type { Clock } from '../model/clock.js';
import type { AlertInstant, AlertView } from './alerts.js';
import type { KpiRow } from './engine.js';
import type { KpiWindow } from './names.js';
import type { AlertPoint, KpiOutbox, KpiPoint, NorthboundRecord, SiteIdentity } from './outbox.js';
import { previousWindow, windowAt, windowsBetween, type KpiWindowSpan } from './windows.js';

/**
 * The gateway's KPIs for the district (issue #17): every configured window's values with their
 * coverage, target bound and status, sent while the window runs (every `running_every`) and once
 * more, final, when it has closed (`closed_after` later, so the window's last minutes of data are
 * in); alert transitions as they happen; the site's identity at start, on change and every
 * `identity_every`. Records go to the KpiOutbox, which every sink drains after its own cursor.
 * Closed windows survive a restart: the last one sent is kept in the outbox's meta, and the
 * windows that closed while the gateway was down are sent when it is back (at most MAX_CATCH_UP).
 */

/** The KPI values of a window (GET /api/kpis): the engine in force. */
export interface KpiSource {
  kpis(kind: KpiWindow, at?: number): KpiRow[];
}

export interface NorthboundDeps {
  config: () => Readonly<GatewayConfig>;
  engine: () => KpiSource | undefined;
  outbox: KpiOutbox;
  clock: Clock;
  log: Logger;
  /** When the gateway started (clock time): on a first start, windows that closed after it are sent. */
  startedAt: number;
}

/** Closed windows sent after a long stop, per window kind (older ones are not worth a KPI pass each). */
const MAX_CATCH_UP = 48;

export function kpiPoints(site: string, rows: readonly KpiRow[], w: KpiWindowSpan, ts: number, closed: boolean): KpiPoint[] {
  return rows.map((r) => {
    const p: KpiPoint = { kind: 'kpi', site, kpi: r.kpi, window: r.window, scope: r.scope, ts, start: w.start, end: w.end, closed, value: r.value, unit: r.unit, coverage: r.coverage, status: r.status };
    if (r.reason) p.reason = r.reason;
    if (r.target?.min !== undefined) p.target_min = r.target.min;
    if (r.target?.max !== undefined) p.target_max = r.target.max;
    return p;
  });
}

export function alertPoint(site: string, a: AlertView, at: AlertInstant): AlertPoint {
  return { kind: 'alert', site, id: a.id, kpi: a.kpi, window: a.window, scope: a.scope, ts: at.ts, start: at.start, end: at.end, active: a.active, status: a.status, value: a.value, coverage: a.coverage, bound: a.target.bound, message: a.message };
}

export function siteIdentity(config: Readonly<GatewayConfig>, ts: number): SiteIdentity {
  const s = config.site;
  const id: SiteIdentity = { kind: 'site', site: s.id, ts, latitude: s.latitude, longitude: s.longitude, timezone: s.timezone };
  if (s.name !== undefined) id.name = s.name;
  if (s.district !== undefined) id.district = s.district;
  if (s.residents !== undefined) id.residents = s.residents;
  if (s.households !== undefined) id.households = s.households;
  return id;
}

/** What identifies a site's identity for "on change" (its timestamp aside). */
const identityText = (i: SiteIdentity) => JSON.stringify({ ...i, ts: 0 });

export class KpiNorthbound {
  private timer: NodeJS.Timeout | undefined;
  private readonly lastRunning = new Map<string, number>();
  private lastPrune = -Infinity;
  /**
   * When the next pass has something to do (a window closing, a running value, the identity, the
   * hourly prune), for the config and engine it was computed with: a pass before it is skipped.
   * The timer ticks 4 times a second so that an accelerated clock is followed; a pass reads the
   * outbox and works out zoned windows, which at 1x was most of this part's CPU for nothing.
   */
  private next: { at: number; after: number; config: Readonly<GatewayConfig>; engine: KpiSource } | undefined;

  constructor(private readonly d: NorthboundDeps) {}

  start(): void {
    if (this.timer) return;
    this.tick();
    // Polled on the wall clock, read on the injected one: accelerated clocks work.
    this.timer = setInterval(() => this.tick(), 250);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** An alert transition (the app forwards the KPI engine's). */
  alert(a: AlertView, at: AlertInstant): void {
    const cfg = this.d.config();
    if (!cfg.kpi.northbound.enabled) return;
    this.d.outbox.append([alertPoint(cfg.site.id, a, at)]);
  }

  /** One pass at the clock's now; returns the records it wrote (tests). */
  tick(): NorthboundRecord[] {
    const cfg = this.d.config();
    const nb = cfg.kpi.northbound;
    const engine = this.d.engine();
    if (!nb.enabled || !engine) return [];
    const now = this.d.clock.now();
    const n = this.next;
    if (n && n.config === cfg && n.engine === engine && now >= n.after && now < n.at) return [];
    const out: NorthboundRecord[] = [];
    // What was sent is remembered in the same transaction as the records: a crash loses neither alone.
    const meta = new Map<string, string>();
    try {
      this.identity(cfg, now, out, meta);
      for (const kind of nb.windows) {
        this.closed(cfg, engine, kind, now, out, meta);
        const last = this.lastRunning.get(kind);
        if (last === undefined || now - last >= nb.running_every || now < last) {
          const w = windowAt(kind, now, cfg.site.timezone);
          out.push(...kpiPoints(cfg.site.id, engine.kpis(kind, now), w, now, false));
          this.lastRunning.set(kind, now);
        }
      }
    } catch (err) {
      this.d.log.error({ err }, 'KPI northbound pass failed');
      return [];
    }
    this.d.outbox.append(out, meta);
    // What every sink has sent is kept as long as raw samples are, then dropped (hourly).
    if (now - this.lastPrune >= 3_600_000 || now < this.lastPrune) {
      this.lastPrune = now;
      this.d.outbox.prune(now - cfg.store.retention.raw);
    }
    this.next = { at: this.nextDue(cfg, now), after: now, config: cfg, engine };
    return out;
  }

  /** The earliest clock time at which a pass would write something or prune. */
  private nextDue(cfg: Readonly<GatewayConfig>, now: number): number {
    const nb = cfg.kpi.northbound;
    const sentAt = Number(this.d.outbox.meta('identity_ts') ?? NaN);
    let at = Math.min(Number.isFinite(sentAt) ? sentAt + nb.identity_every : now, this.lastPrune + 3_600_000);
    for (const kind of nb.windows) {
      // The window open at now − closed_after is the next to close; it is due closed_after after its end.
      at = Math.min(at, windowAt(kind, now - nb.closed_after, cfg.site.timezone).end + nb.closed_after, (this.lastRunning.get(kind) ?? now) + nb.running_every);
    }
    return at;
  }

  private identity(cfg: Readonly<GatewayConfig>, now: number, out: NorthboundRecord[], meta: Map<string, string>): void {
    const id = siteIdentity(cfg, now);
    const text = identityText(id);
    const sentAt = Number(this.d.outbox.meta('identity_ts') ?? NaN);
    const due = !(sentAt <= now && now - sentAt < cfg.kpi.northbound.identity_every);
    if (this.d.outbox.meta('identity') === text && !due) return;
    out.push(id);
    meta.set('identity', text);
    meta.set('identity_ts', String(now));
  }

  /** The windows of `kind` that closed `closed_after` ago or earlier and were not sent yet. */
  private closed(cfg: Readonly<GatewayConfig>, engine: KpiSource, kind: KpiWindow, now: number, out: NorthboundRecord[], meta: Map<string, string>): void {
    const tz = cfg.site.timezone;
    const last = previousWindow(windowAt(kind, now - cfg.kpi.northbound.closed_after, tz));
    const key = `closed:${kind}`;
    const sent = this.d.outbox.meta(key);
    // A first start: windows that closed before the gateway ran have no data worth sending; the
    // one it started in is sent when it closes, even when the first pass comes after that.
    const from = sent === undefined ? previousWindow(windowAt(kind, this.d.startedAt, tz)).start : Number(sent);
    if (from >= last.start) {
      if (sent === undefined) meta.set(key, String(from));
      return;
    }
    const due = windowsBetween(kind, from + 1, last.end, tz, MAX_CATCH_UP).filter((w) => w.start > from);
    for (const w of due) out.push(...kpiPoints(cfg.site.id, engine.kpis(kind, w.start), w, w.end - 1, true));
    meta.set(key, String(last.start));
  }
}
