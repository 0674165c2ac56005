// The dashboard shell: header, navigation, language, live status, and one mounted view at
// a time (a hidden view is destroyed, so the DOM only ever holds what is on screen).
import { api } from './api.js';
import { h, setText } from './dom.js';
import { formatTime } from './format.js';
import { detectLang, translator } from './i18n.js';
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
};

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
  alerts: document.getElementById('alerts'),
  lang: document.getElementById('lang'),
  view: document.getElementById('view'),
  updated: document.getElementById('updated'),
  error: document.getElementById('error'),
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
  window.addEventListener('hashchange', route);
  // Health names the site and its time zone; the page still works when it cannot say.
  const healthReq = api.health().catch(() => null);
  for (let attempt = 0; ; attempt++) {
    try {
      const [health] = await Promise.all([healthReq, app.state.load()]);
      const site = typeof health?.site === 'object' && health.site ? health.site : { id: health?.site };
      const tz = site.timezone ?? health?.timezone;
      if (tz) app.tz = tz;
      app.site = site.name ?? health?.site_name ?? site.id ?? '';
      els.error.hidden = true;
      break;
    } catch (err) {
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
