// The gateway's HTTP API, as the page uses it. Everything is same-origin: the page never
// talks to anything but the gateway that served it.

const QUALITY_CODES = ['good', 'uncertain', 'bad'];

/** Times arrive as ISO strings or epoch ms; the page works in epoch ms. */
export function toMs(ts) {
  if (typeof ts === 'number') return ts;
  if (typeof ts === 'string') {
    const n = Date.parse(ts);
    if (!Number.isNaN(n)) return n;
    const m = Number(ts);
    return Number.isFinite(m) ? m : 0;
  }
  return 0;
}

/** Quality as a name, whether it came as a name or as the store's 0/1/2 code. */
export function toQuality(q) {
  if (typeof q === 'number') return QUALITY_CODES[q] ?? 'bad';
  return q === 'good' || q === 'uncertain' || q === 'bad' ? q : 'good';
}

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

function token() {
  try {
    return localStorage.getItem('fcgw.token') ?? '';
  } catch {
    return '';
  }
}

/** Whether the browser holds a token for this gateway. */
export function hasToken() {
  return token() !== '';
}

/** Keep the token the user entered (this browser only; it goes to this gateway only). */
export function saveToken(value) {
  try {
    localStorage.setItem('fcgw.token', value);
  } catch {
    /* private mode: the page cannot keep it */
  }
}

async function get(path, params = {}, signal) {
  const url = new window.URL(path, window.location.origin);
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null && v !== '') url.searchParams.set(k, String(v));
  }
  const headers = { accept: 'application/json' };
  const tk = token();
  if (tk) headers.authorization = `Bearer ${tk}`;
  const res = await fetch(url, { headers, signal });
  if (!res.ok) {
    let code = `HTTP_${res.status}`;
    let message = res.statusText;
    try {
      const body = await res.json();
      code = body?.error?.code ?? code;
      message = body?.error?.message ?? message;
    } catch {
      /* not JSON: keep the status line */
    }
    throw new ApiError(res.status, code, `${path}: ${message}`);
  }
  return res.json();
}

function normLatest(r) {
  return { ...r, ts: toMs(r.ts), quality: toQuality(r.quality) };
}

function normEvent(e) {
  return { ...e, ts: toMs(e.ts), attributes: e.attributes ?? {} };
}

export const api = {
  health: (signal) => get('/api/health', {}, signal),
  devices: async (signal) => (await get('/api/devices', {}, signal)).map((d) => ({ ...d, lastSeen: d.lastSeen ? toMs(d.lastSeen) : 0 })),
  latest: async (params = {}, signal) => (await get('/api/latest', params, signal)).map(normLatest),
  /** {device, metric, unit, points: [[ts, value, quality]]} with ts in ms and quality by name. */
  series: async (params, signal) => {
    const r = await get('/api/series', params, signal);
    return { ...r, points: (r.points ?? []).map(([ts, v, q]) => [toMs(ts), v, toQuality(q)]) };
  },
  events: async (params = {}, signal) => (await get('/api/events', params, signal)).map(normEvent),
  kpis: (params = {}, signal) => get('/api/kpis', params, signal),
  alerts: (signal) => get('/api/alerts', {}, signal),
};

/** Commands (an admin token for sending; the list needs only a read token). */
export const commandApi = {
  list: (device, signal) => get(`/api/devices/${encodeURIComponent(device)}/commands`, {}, signal),
  /** An admin token given in this tab (sessionStorage: gone when the tab closes), else the saved token. */
  adminToken() {
    try {
      return window.sessionStorage.getItem('fcgw.adminToken') || token();
    } catch {
      return token();
    }
  },
  rememberAdmin(value) {
    try {
      window.sessionStorage.setItem('fcgw.adminToken', value);
    } catch {
      /* the page cannot keep it: it is asked for again */
    }
  },
  /** POST a command; resolves with the outcome (also a failed one), rejects with ApiError on 401/403 and transport errors. */
  async send(device, body, tk) {
    const headers = { 'content-type': 'application/json', accept: 'application/json' };
    if (tk) headers.authorization = `Bearer ${tk}`;
    const res = await fetch(`/api/devices/${encodeURIComponent(device)}/commands`, { method: 'POST', headers, body: JSON.stringify(body) });
    let out = {};
    try {
      out = await res.json();
    } catch {
      /* not JSON */
    }
    if (res.status === 401 || res.status === 403) throw new ApiError(res.status, out?.error?.code ?? `HTTP_${res.status}`, out?.error?.message ?? res.statusText);
    return out;
  },
};

/** The live stream's URL (EventSource cannot send headers, so a token goes in the query). */
export function liveUrl() {
  const tk = token();
  return tk ? `/api/live?access_token=${encodeURIComponent(tk)}` : '/api/live';
}

export { normLatest, normEvent };
