// What the page knows: devices, the latest value of each series, recent events and alerts.
// Fed once from the API, then by /api/live. Every collection has a cap, and live messages
// are coalesced and applied at most twice a second, so a fast stream cannot grow the page.
import { api, liveUrl, normEvent, toMs, toQuality } from './api.js';
import { compareIds, Ring } from './derive.js';

export const LIMITS = Object.freeze({
  series: 50_000,
  devices: 20_000,
  events: 1_000,
  alerts: 200,
  flushMs: 500,
});

const key = (device, metric) => `${device}\u0000${metric}`;

export class LiveState {
  constructor(limits = LIMITS) {
    this.limits = limits;
    this.devices = new Map();
    this.latest = new Map();
    this.units = new Map();
    this.events = new Ring(limits.events);
    /** Alerts by id: a raised alert and its later clearing are one entry. */
    this.alerts = new Map();
    this.nowTs = 0;
    this.status = 'connecting';
    this.received = { samples: 0, events: 0, alerts: 0 };
    this.listeners = new Set();
    this.pendingSamples = new Map();
    this.pendingEvents = new Ring(limits.events);
    this.pendingAlerts = new Ring(limits.alerts);
    this.dirty = false;
    this.source = null;
    this.timer = null;
    this.refreshTimer = null;
  }

  /**
   * Data time: what the devices say it is (a simulated community runs ahead of the wall clock).
   * The third-newest device time, so one device with a wrong clock cannot move "today".
   */
  now() {
    return this.nowTs || Date.now();
  }

  updateNow() {
    const top = [0, 0, 0];
    for (const d of this.devices.values()) {
      const ts = d.lastSeen ?? 0;
      if (ts <= top[2]) continue;
      top[2] = ts;
      top.sort((a, b) => b - a);
    }
    const n = Math.min(3, this.devices.size);
    const ts = n > 0 ? top[n - 1] : 0;
    if (ts > this.nowTs) this.nowTs = ts;
  }

  latestOf(device, metric) {
    return this.latest.get(key(device, metric));
  }

  unitOf(cls, metric) {
    return this.units.get(`${cls}/${metric}`);
  }

  /** Devices of one class in id order. */
  devicesOf(cls) {
    const out = [];
    for (const d of this.devices.values()) if (d.class === cls) out.push(d);
    return out.sort((a, b) => compareIds(a.id, b.id));
  }

  /** Subscribe to applied batches ({samples, events, alerts}); returns the unsubscribe function. */
  subscribe(fn) {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  async load(signal) {
    const [devices, latest, alerts] = await Promise.all([
      api.devices(signal),
      api.latest({}, signal),
      api.alerts(signal).catch(() => []),
    ]);
    this.setDevices(devices);
    for (const r of latest) this.putSample(r);
    this.updateNow();
    const list = Array.isArray(alerts) ? alerts : (alerts?.alerts ?? []);
    // The API lists newest first; keep them oldest first like the live ones that follow.
    for (const a of [...list].reverse()) this.putAlert(a);
  }

  putAlert(a) {
    const rec = { ...a, ts: toMs(a.ts) };
    const id = rec.id ?? `${rec.kpi}|${rec.window}|${rec.scope}|${rec.ts}`;
    this.alerts.delete(id);
    if (this.alerts.size >= this.limits.alerts) this.alerts.delete(this.alerts.keys().next().value);
    this.alerts.set(id, rec);
  }

  /** Newest first, at most n. */
  recentAlerts(n = this.limits.alerts) {
    return [...this.alerts.values()].sort((a, b) => b.ts - a.ts).slice(0, n);
  }

  activeAlerts() {
    let n = 0;
    for (const a of this.alerts.values()) if (a.active === true) n += 1;
    return n;
  }

  setDevices(list) {
    const next = new Map();
    for (const d of list.slice(0, this.limits.devices)) {
      const old = this.devices.get(d.id);
      // A live sample may be newer than the list the API had when it answered.
      next.set(d.id, old && old.lastSeen > d.lastSeen ? { ...d, lastSeen: old.lastSeen } : d);
    }
    this.devices = next;
  }

  putSample(r) {
    const k = key(r.device, r.metric);
    if (r.unit) this.units.set(`${r.class}/${r.metric}`, r.unit);
    const old = this.latest.get(k);
    if (old && old.ts > r.ts) return; // out of order: keep the newer one
    if (!old && this.latest.size >= this.limits.series) {
      const oldest = this.latest.keys().next().value;
      if (oldest !== undefined) this.latest.delete(oldest);
    }
    this.latest.set(k, { ...r, unit: r.unit ?? old?.unit ?? this.unitOf(r.class, r.metric) });
    const d = this.devices.get(r.device);
    if (d) {
      if (r.ts > (d.lastSeen ?? 0)) d.lastSeen = r.ts;
      if (d.status === 'stale' && r.reason !== 'stale') d.status = 'online';
    } else if (this.devices.size < this.limits.devices) {
      this.devices.set(r.device, { id: r.device, class: r.class, status: 'online', lastSeen: r.ts, quality: r.quality });
    }
  }

  connect() {
    if (this.source) return;
    const src = new EventSource(liveUrl());
    this.source = src;
    src.onopen = () => {
      this.setStatus('open');
      // Whatever changed before the stream opened comes from the API rather than waiting for
      // the series' next change: on a reconnect (gateway restart, or the stream dropped us for
      // falling behind), and on the first open too, since a value committed between load() and
      // the stream's subscription reaches neither (a meter read every 15 min would show nothing).
      this.resync();
    };
    src.onerror = () => this.setStatus(src.readyState === EventSource.CLOSED ? 'closed' : 'connecting');
    src.addEventListener('sample', (m) => this.onSample(m.data));
    src.addEventListener('event', (m) => this.onEvent(m.data));
    src.addEventListener('alert', (m) => this.onAlert(m.data));
    src.addEventListener('stale', (m) => this.onStale(m.data));
    this.timer = setInterval(() => this.flush(), this.limits.flushMs);
    // New devices (discovery) and status changes arrive through the device list.
    this.refreshTimer = setInterval(() => {
      api.devices().then((d) => this.setDevices(d)).catch(() => {});
    }, 30_000);
  }

  resync() {
    Promise.all([api.devices(), api.latest()])
      .then(([devices, latest]) => {
        this.setDevices(devices);
        for (const r of latest) this.putSample(r);
        this.updateNow();
        this.dirty = true;
      })
      .catch(() => {});
  }

  close() {
    this.source?.close();
    this.source = null;
    clearInterval(this.timer);
    clearInterval(this.refreshTimer);
    this.timer = null;
    this.refreshTimer = null;
    this.listeners.clear();
  }

  setStatus(s) {
    if (this.status === s) return;
    this.status = s;
    this.notify({ samples: [], events: [], alerts: [], status: s });
  }

  onSample(data) {
    let r;
    try {
      r = JSON.parse(data);
    } catch {
      return;
    }
    this.received.samples += 1;
    const rec = { ...r, ts: toMs(r.ts), quality: toQuality(r.quality) };
    const k = key(rec.device, rec.metric);
    // Only the newest value of a series matters to the page: coalesce until the next flush.
    if (!this.pendingSamples.has(k) && this.pendingSamples.size >= this.limits.series) return;
    this.pendingSamples.set(k, rec);
  }

  onEvent(data) {
    try {
      this.pendingEvents.push(normEvent(JSON.parse(data)));
      this.received.events += 1;
    } catch {
      /* a malformed message is dropped; the next one is independent */
    }
  }

  onAlert(data) {
    try {
      this.pendingAlerts.push(JSON.parse(data));
      this.received.alerts += 1;
    } catch {
      /* as above */
    }
  }

  /** A device went quiet: its last values stay on screen, marked stale (never re-stamped). */
  onStale(data) {
    let msg;
    try {
      msg = JSON.parse(data);
    } catch {
      return;
    }
    const d = this.devices.get(msg.device);
    if (d) d.status = 'stale';
    const prefix = `${msg.device}\u0000`;
    for (const [k, r] of this.latest) {
      if (k.startsWith(prefix) && r.quality !== 'bad') this.latest.set(k, { ...r, quality: 'uncertain', reason: 'stale' });
    }
    this.dirty = true;
  }

  flush() {
    if (!this.dirty && this.pendingSamples.size === 0 && this.pendingEvents.size === 0 && this.pendingAlerts.size === 0) return;
    this.dirty = false;
    const samples = [...this.pendingSamples.values()];
    this.pendingSamples.clear();
    const events = this.pendingEvents.toArray();
    this.pendingEvents.clear();
    const alerts = this.pendingAlerts.toArray();
    this.pendingAlerts.clear();
    for (const r of samples) this.putSample(r);
    for (const e of events) {
      this.events.push(e);
    }
    for (const a of alerts) this.putAlert(a);
    if (samples.length) this.updateNow();
    this.notify({ samples, events, alerts });
  }

  notify(batch) {
    for (const fn of this.listeners) {
      try {
        fn(batch);
      } catch (err) {
        console.warn('view update failed', err);
      }
    }
  }
}
