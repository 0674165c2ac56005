import type { Logger } from 'pino';
import type { TargetConfig } from '../config/schema.js';
import type { KpiResult } from './compute.js';
import { KPIS } from './names.js';
import type { AlertRow, KpiStateDb, NewAlert, TargetState } from './state-db.js';
import { boundText, judge, scopeText, targetKey, type TargetStatus, type TargetVerdict } from './targets.js';
import { formatLocal } from './windows.js';

/**
 * Target state machines and the alerts they raise. One machine per target follows its current
 * window (and the final verdict of each window as it closes):
 * - entering `missed` raises an alert (active until the target is met again, by the hysteresis);
 * - entering `unknown` for lack of good input, after the target had been met or missed, raises
 *   an `unknown` alert (a data problem), which a later verdict replaces; a target never known
 *   yet (a new gateway, no such devices) or with nothing to measure raises nothing;
 * - a missed alert is never cleared by `unknown`: not knowing is not being back in bounds.
 * Late data that changes the verdict of an older, already closed window raises a `revised`
 * alert, inactive (the current window governs what is active).
 */

export interface AlertView {
  id: number;
  ts: string;
  kpi: string;
  scene: string;
  unit: string;
  window: string;
  window_start: string;
  window_end: string;
  scope: string;
  status: TargetStatus;
  previous: string | null;
  value: number | null;
  coverage: number;
  target: { min?: number; max?: number; bound: string };
  reason?: string;
  active: boolean;
  revised?: boolean;
  cleared_at?: string;
  message: string;
}

export interface AlertInstant {
  ts: number;
  start: number;
  end: number;
}

export interface AlertSinks {
  log: Logger;
  tz: string;
  site: string;
  publish?: (topic: string, payload: string) => void | Promise<void>;
  /** `at` carries the transition's instant and the window in epoch ms (the northbound export needs them exact). */
  onAlert?: (alert: AlertView, at: AlertInstant) => void;
}

export class AlertKeeper {
  constructor(
    private readonly db: KpiStateDb,
    private readonly out: AlertSinks,
  ) {}

  /** Feed a verdict of the target's current (or just closed) window into its state machine. */
  feed(t: TargetConfig, r: KpiResult, now: number): TargetVerdict {
    const key = targetKey(t);
    const st: TargetState = this.db.target(key) ?? { target: key, status: 'unknown', known: null, activeAlert: null };
    const v = judge(r, t, st.known ?? undefined);
    const active = st.activeAlert !== null ? this.db.alert(st.activeAlert) : undefined;
    const live = active && active.active === 1 ? active : undefined;
    const next: TargetState = { ...st, status: v.status, known: v.status === 'unknown' ? st.known : v.status };
    if (v.status === 'missed' && live?.status !== 'missed') {
      // The data came back and the target is missed: the `unknown` alert is replaced, quietly.
      if (live) this.db.clearAlert(live.id, now, live.status);
      next.activeAlert = this.raise(t, r, v, st.status, now, false);
    } else if (v.status === 'met' && live) {
      this.clear(live, now, 'met');
      next.activeAlert = null;
    } else if (v.status === 'unknown' && v.reason === 'low_coverage' && !live && st.known !== null) {
      // Only a target that was being measured and no longer can be is a data problem (a new
      // gateway, or a site without that kind of device, is simply not measuring it yet).
      next.activeAlert = this.raise(t, r, v, st.status, now, false);
    }
    this.db.putTarget(next, now);
    return v;
  }

  /** A closed window judged again after late data; returns the new verdict. */
  revise(t: TargetConfig, r: KpiResult, previous: TargetStatus | undefined, now: number): TargetVerdict {
    const known = previous === 'met' || previous === 'missed' ? previous : undefined;
    const v = judge(r, t, known);
    if (previous !== undefined && v.status !== previous && (v.status === 'missed' || previous === 'missed')) {
      this.raise(t, r, v, previous, now, true);
    }
    // The alert still active for this very window was raised on data now known to be incomplete.
    const st = this.db.target(targetKey(t));
    const active = st?.activeAlert != null ? this.db.alert(st.activeAlert) : undefined;
    if (st && active?.active === 1 && active.window_start === r.start && v.status === 'met') {
      this.clear(active, now, 'met');
      this.db.putTarget({ ...st, activeAlert: null, known: st.status === 'unknown' ? 'met' : st.known }, now);
    }
    return v;
  }

  /**
   * Close the active alerts of targets that are no longer configured (a reload or a restart
   * removed them or changed their bound): nothing will ever judge them again.
   */
  retireOthers(targets: readonly TargetConfig[], now: number): number {
    const keep = new Set(targets.map(targetKey));
    let n = 0;
    for (const a of this.db.active()) {
      if (keep.has(a.target)) continue;
      this.db.retireAlert(a.id, now);
      const row = this.db.alert(a.id);
      if (row) this.emit(row, now);
      n++;
    }
    return n;
  }

  private raise(t: TargetConfig, r: KpiResult, v: TargetVerdict, previous: string, now: number, revised: boolean): number {
    const a: NewAlert = {
      ts: now,
      target: targetKey(t),
      kpi: t.kpi,
      win: t.window,
      window_start: r.start,
      window_end: r.end,
      scope: scopeText(t.scope),
      status: v.status,
      previous,
      value: r.value,
      coverage: r.coverage,
      bound: JSON.stringify({ min: t.min, max: t.max }),
      reason: v.reason ?? (r.beyond ? 'open_starts' : null),
      revised: revised ? 1 : 0,
      active: revised ? 0 : 1,
    };
    const id = this.db.insertAlert(a);
    this.emit({ ...a, id, cleared_at: null }, now);
    return id;
  }

  private clear(a: AlertRow, now: number, status: TargetStatus): void {
    this.db.clearAlert(a.id, now, status);
    const row = this.db.alert(a.id);
    if (row) this.emit(row, now);
  }

  private emit(row: AlertRow, now: number): void {
    const view = this.view(row);
    const level = row.active === 1 && row.status === 'missed' ? 'warn' : 'info';
    this.out.log[level]({ alert: view }, view.message);
    this.out.onAlert?.(view, { ts: now, start: row.window_start, end: row.window_end });
    if (this.out.publish) {
      const payload = JSON.stringify({ ...view, ts: now, window_start: row.window_start, window_end: row.window_end });
      try {
        void Promise.resolve(this.out.publish(`fc/${this.out.site}/alerts`, payload)).catch((err: unknown) =>
          this.out.log.warn({ err }, 'could not publish a KPI alert over MQTT'),
        );
      } catch (err) {
        this.out.log.warn({ err }, 'could not publish a KPI alert over MQTT');
      }
    }
  }

  view(row: AlertRow): AlertView {
    const bound = JSON.parse(row.bound) as { min?: number; max?: number };
    const info = KPIS[row.kpi];
    const tz = this.out.tz;
    const v: AlertView = {
      id: row.id,
      ts: new Date(row.ts).toISOString(),
      kpi: row.kpi,
      scene: info?.scene ?? 'low_carbon',
      unit: info?.unit ?? '',
      window: row.win,
      window_start: formatLocal(row.window_start, tz),
      window_end: formatLocal(row.window_end, tz),
      scope: row.scope,
      status: row.status,
      previous: row.previous,
      value: row.value,
      coverage: row.coverage,
      target: { ...bound, bound: boundText(bound) },
      active: row.active === 1,
      message: '',
    };
    if (row.reason) v.reason = row.reason;
    if (row.revised) v.revised = true;
    if (row.cleared_at !== null) v.cleared_at = new Date(row.cleared_at).toISOString();
    v.message = messageOf(v);
    return v;
  }

  /** Recent alerts, newest first, plus any still active that are older than those. */
  list(limit = 200): AlertView[] {
    const recent = this.db.recent(limit);
    const ids = new Set(recent.map((r) => r.id));
    const older = this.db.active().filter((r) => !ids.has(r.id));
    return [...recent, ...older.reverse()].map((r) => this.view(r));
  }
}

function messageOf(a: AlertView): string {
  const val = a.value === null ? 'no value' : `${Number(a.value.toPrecision(4))} ${a.unit}`;
  const where = `${a.kpi} (${a.window} from ${a.window_start}, ${a.scope})`;
  const cov = `coverage ${Math.round(a.coverage * 100)} %`;
  if (a.revised) return `${where} revised by late data: now ${a.status} (${val}, target ${a.target.bound}, ${cov})`;
  if (a.reason === 'target_removed') return `${where} closed: target ${a.target.bound} is no longer configured`;
  if (!a.active && a.cleared_at) return `${where} back to ${a.status}: ${val}, target ${a.target.bound}`;
  if (a.status === 'unknown') return `${where} unknown: not enough good input data (${cov})`;
  return `${where} ${a.status}: ${val}, target ${a.target.bound} (${cov})`;
}
