// Today's curves as fixed arrays: one slot per bucket from local midnight, so a day of
// live updates rewrites slots and never appends. Per-device slots are summed (PV, grid,
// battery) or averaged (state of charge); a device that skipped a bucket carries its last
// value forward for up to `carryBuckets`, so one late inverter does not dent the total.

export class DayCurves {
  /**
   * @param {number} dayStart local midnight (ms)
   * @param {number} bucketMs bucket width (ms)
   * @param {Record<string, 'sum'|'mean'>} names the curves and how devices combine
   */
  constructor(dayStart, bucketMs, names, carryBuckets = 3) {
    this.bucketMs = bucketMs;
    this.n = Math.ceil(86_400_000 / bucketMs);
    this.names = names;
    this.carry = carryBuckets;
    this.reset(dayStart);
  }

  reset(dayStart) {
    this.dayStart = dayStart;
    this.x = Array.from({ length: this.n }, (_, i) => dayStart + i * this.bucketMs);
    this.perDevice = {};
    this.y = {};
    for (const name of Object.keys(this.names)) {
      this.perDevice[name] = new Map();
      this.y[name] = new Array(this.n).fill(null);
    }
  }

  /** Index of the bucket holding ts, or -1 outside today. */
  index(ts) {
    const i = Math.floor((ts - this.dayStart) / this.bucketMs);
    return i >= 0 && i < this.n ? i : -1;
  }

  /** Record one device's value at ts; returns the bucket index touched, or -1. */
  put(name, device, ts, value) {
    const map = this.perDevice[name];
    if (!map || typeof value !== 'number' || !Number.isFinite(value)) return -1;
    const i = this.index(ts);
    if (i < 0) return -1;
    let slots = map.get(device);
    if (!slots) {
      slots = new Float64Array(this.n).fill(Number.NaN);
      map.set(device, slots);
    }
    slots[i] = value;
    this.recompute(name, i);
    return i;
  }

  /** Recompute the combined value of one bucket (and the carried-forward ones after it). */
  recompute(name, from, to = Math.min(this.n - 1, from + this.carry)) {
    const map = this.perDevice[name];
    const y = this.y[name];
    for (let i = from; i <= to; i++) {
      let sum = 0;
      let n = 0;
      let fresh = false;
      for (const slots of map.values()) {
        let v = Number.NaN;
        for (let k = i; k >= Math.max(0, i - this.carry); k--) {
          if (!Number.isNaN(slots[k])) {
            v = slots[k];
            if (k === i) fresh = true;
            break;
          }
        }
        if (!Number.isNaN(v)) {
          sum += v;
          n += 1;
        }
      }
      // A bucket only exists once some device reported in it; carried values fill the rest.
      y[i] = fresh && n > 0 ? (this.names[name] === 'mean' ? sum / n : sum) : null;
    }
  }

  /** A derived curve from others, bucket by bucket (null where an input is missing). */
  derive(fn, ...names) {
    const out = new Array(this.n);
    for (let i = 0; i < this.n; i++) {
      // A curve with no devices at all (a site without storage) counts as zero, not as missing.
      const vs = names.map((nm) => (this.perDevice[nm].size === 0 ? 0 : this.y[nm][i]));
      out[i] = vs.every((v) => v !== null) ? fn(...vs) : null;
    }
    return out;
  }
}
