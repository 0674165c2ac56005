// The dashboard shell: header, navigation, language, live status, and one mounted view at
// a time (a hidden view is destroyed, so the DOM only ever holds what is on screen).
import { api, ApiError, hasToken, saveToken } from './api.js';
import { h, setText } from './dom.js';
import { formatTime } from './format.js';
import { detectLang, translator } from './i18n.js';
import { healthProblems } from './derive.js';
import { LiveState } from './state.js';
import * as energy from './views/energy.js';
import * as parking from './views/parking.js';
import * as parcels from './views/parcels.js';
import * as doors from './views/doors.js';
import * as water from './views/water.js';
import * as targets from './views/targets.js';
import * as devices from './views/devices.js';

const VIEWS = { energy, parking, parcels, doors, water, targets, devices };
const DEFAULT_VIEW = 'energy';

function storedLang() {
  try {
    return localStorage.getItem('fcgw.lang') ?? undefined;
  } catch {
    return undefined;
  }
}

const app = {
  state: new LiveState(),
  lang: detectLang(navigator.languages, storedLang()),
  tz: Intl.DateTimeFormat().resolvedOptions().timeZone,
  site: '',
  current: null,
  currentName: '',
  firstRender: false,
  /** The last /api/health (null when it could not be read). */
  health: null,
};

/** How often the header asks the gateway how it is. */
const HEALTH_EVERY_MS = 15_000;

function ctx() {
  return {
    state: app.state,
    api,
    lang: app.lang,
    tz: app.tz,
    t: translator(app.lang),
    now: () => app.state.now(),
    rendered: markRendered,
  };
}

const els = {
  title: document.getElementById('title'),
  site: document.getElementById('site'),
  nav: document.getElementById('nav'),
  live: document.getElementById('live'),
  health: document.getElementById('health'),
  healthDetail: document.getElementById('health-detail'),
  alerts: document.getElementById('alerts'),
  lang: document.getElementById('lang'),
  view: document.getElementById('view'),
  updated: document.getElementById('updated'),
  error: document.getElementById('error'),
  auth: document.getElementById('auth'),
  authText: document.getElementById('auth-text'),
  authLabel: document.getElementById('auth-label'),
  authToken: document.getElementById('auth-token'),
  authSave: document.getElementById('auth-save'),
};

function renderShell() {
  const t = translator(app.lang);
  document.documentElement.lang = app.lang === 'zh' ? 'zh-CN' : 'en';
  document.title = app.site ? `${app.site} · ${t('app.title')}` : t('app.title');
  setText(els.title, t('app.title'));
  setText(els.site, app.site);
  setText(els.lang, t('lang.other'));
  els.nav.replaceChildren(
    ...Object.keys(VIEWS).map((name) =>
      h('a', { href: `#${name}`, 'data-view': name, class: name === app.currentName ? 'active' : '', text: t(`nav.${name}`) }),
    ),
  );
  renderLive();
  renderHealth();
}

/**
 * The gateway's own state next to the live badge: hidden while all is well; otherwise
 * "Degraded" (or "Down") with what needs attention: in its tooltip, and in a list under the
 * header that a click (or a tap on a phone) opens.
 */
function renderHealth() {
  const t = translator(app.lang);
  const health = app.health;
  const problems = healthProblems(health);
  els.health.hidden = !health || health.status === 'ok';
  if (els.health.hidden) {
    els.healthDetail.hidden = true;
    els.health.setAttribute('aria-expanded', 'false');
    return;
  }
  const stateOf = (s) => t(`health.state.${s}`) === `health.state.${s}` ? s : t(`health.state.${s}`);
  const lines = problems.map((p) => {
    if (p.kind === 'link') return t('health.link', { id: p.id, state: stateOf(p.state) }) + (p.detail ? ` (${p.detail})` : '');
    if (p.kind === 'sink') return t('health.sink', { id: p.id, state: stateOf(p.state), backlog: p.backlog.toLocaleString(app.lang === 'zh' ? 'zh-CN' : 'en') }) + (p.detail ? ` (${p.detail})` : '');
    if (p.kind === 'over_cap') return t('health.overCap');
    if (p.kind === 'loss') return t('health.loss', { samples: p.samples, events: p.events, time: formatTime(Date.parse(p.at), app.lang, app.tz, true) });
    return t('health.storeDown');
  });
  els.health.className = `health health-${health.status}`;
  els.health.dataset.status = health.status;
  setText(els.health, `⚠ ${t(health.status === 'down' ? 'health.down' : 'health.degraded')}`);
  els.health.title = [t('health.title'), ...lines].join('\n');
  els.healthDetail.replaceChildren(...[t('health.title'), ...lines].map((line, i) => h('li', { class: i === 0 ? 'head' : '', text: line })));
}

async function refreshHealth() {
  app.health = await api.health().catch(() => null);
  renderHealth();
}

function renderLive() {
  const t = translator(app.lang);
  const s = app.state.status;
  els.live.className = `live live-${s}`;
  setText(els.live, t(`live.${s}`));
  const active = app.state.activeAlerts();
  els.alerts.hidden = active === 0;
  setText(els.alerts, `⚠ ${active}`);
  const now = app.state.now();
  setText(els.updated, t('common.updated', { time: formatTime(now, app.lang, app.tz, true) }));
}

function show(name, arg = '') {
  const view = VIEWS[name] ? name : DEFAULT_VIEW;
  if (app.current) app.current.destroy();
  app.current = null;
  app.currentName = view;
  els.view.replaceChildren();
  els.view.dataset.view = view;
  for (const a of els.nav.querySelectorAll('a')) a.classList.toggle('active', a.dataset.view === view);
  app.current = VIEWS[view].mount(els.view, { ...ctx(), arg });
  app.current.update({ samples: [], events: [], alerts: [] });
}

/** #energy, #devices/pv-roof-a … */
function route() {
  const [name, ...rest] = window.location.hash.replace(/^#\/?/, '').split('/');
  show(name || DEFAULT_VIEW, rest.join('/'));
}

function setLang(lang) {
  app.lang = lang;
  try {
    localStorage.setItem('fcgw.lang', lang);
  } catch {
    /* private mode: the choice lasts for this page only */
  }
  renderShell();
  route();
}

async function start() {
  renderShell();
  els.lang.addEventListener('click', () => setLang(app.lang === 'zh' ? 'en' : 'zh'));
  els.health.addEventListener('click', () => {
    els.healthDetail.hidden = !els.healthDetail.hidden;
    els.health.setAttribute('aria-expanded', String(!els.healthDetail.hidden));
  });
  window.addEventListener('hashchange', route);
  // Health names the site and its time zone; the page still works when it cannot say.
  const healthReq = api.health().catch(() => null);
  for (let attempt = 0; ; attempt++) {
    try {
      const [health] = await Promise.all([healthReq, app.state.load()]);
      app.health = health;
      const site = typeof health?.site === 'object' && health.site ? health.site : { id: health?.site };
      const tz = site.timezone ?? health?.timezone;
      if (tz) app.tz = tz;
      app.site = site.name ?? health?.site_name ?? site.id ?? '';
      els.error.hidden = true;
      break;
    } catch (err) {
      // The API wants a token (401) or a better one (403): ask for it, once, instead of retrying.
      if (err instanceof ApiError && (err.status === 401 || err.status === 403)) {
        askToken();
        return;
      }
      els.error.hidden = false;
      setText(els.error, String(err.message ?? err));
      await new Promise((r) => setTimeout(r, Math.min(10_000, 1000 * 2 ** attempt)));
    }
  }
  app.state.subscribe((batch) => {
    renderLive();
    app.current?.update(batch);
  });
  app.state.connect();
  renderShell();
  route();
  void refreshHealth();
  setInterval(() => void refreshHealth(), HEALTH_EVERY_MS);
}

/** A form for the access token; saved in this browser, then the page starts again with it. */
function askToken() {
  const t = translator(app.lang);
  els.error.hidden = true;
  setText(els.authText, t(hasToken() ? 'auth.rejected' : 'auth.prompt'));
  setText(els.authLabel, t('auth.label'));
  setText(els.authSave, t('auth.save'));
  els.auth.hidden = false;
  els.authToken.focus();
  els.auth.addEventListener('submit', (e) => {
    e.preventDefault();
    saveToken(els.authToken.value.trim());
    window.location.reload();
  });
}

/** Views call this once their first data is on screen; the browser test reads the mark. */
function markRendered() {
  if (app.firstRender) return;
  app.firstRender = true;
  performance.mark('fc-first-render');
  document.body.dataset.ready = '1';
}

// Read-only counters for operators' devtools and the browser test: what arrived, what is kept.
Object.defineProperty(window, 'fcgw', {
  value: Object.freeze({
    stats: () => ({
      view: app.currentName,
      lang: app.lang,
      status: app.state.status,
      received: { ...app.state.received },
      devices: app.state.devices.size,
      series: app.state.latest.size,
      events: app.state.events.size,
      alerts: app.state.alerts.size,
      now: app.state.now(),
    }),
  }),
});

start();
