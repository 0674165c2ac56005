// What a property manager may tell a device from the dashboard: open a barrier, unlock one
// locker compartment. Each command is confirmed first (the page says what will happen, to which
// device), then sent with an admin token (asked for once per browser tab when the saved one is
// only a read token) and reported with the gateway's verdict after the device's read-back.
import { h, replaceChildren } from '../dom.js';
import { commandApi } from '../api.js';

/** Commands the dashboard offers: the ones a property manager needs, no setpoints. */
const OFFERED = new Set(['open', 'unlock']);

export function commandPanel(device, ctx) {
  const { t } = ctx;
  const ctrl = new window.AbortController();
  const el = h('div', { class: 'commands', 'data-commands': device.id });
  let pending = null;

  function status(kind, text) {
    const s = el.querySelector('.cmd-status') ?? h('p', { class: 'cmd-status', role: 'status' });
    s.className = `cmd-status cmd-${kind}`;
    s.textContent = text;
    if (!s.isConnected) el.append(s);
  }

  async function send(cmd, value, token) {
    status('busy', t('cmd.sending'));
    try {
      const r = await commandApi.send(device.id, { command: cmd.name, ...(value !== undefined ? { value } : {}), idempotency_key: pending.key }, token);
      if (r.status === 'succeeded') status('ok', t(`cmd.done.${cmd.name}`, { device: device.id, value: value ?? '' }));
      else status('failed', t('cmd.failed', { reason: r.error?.message ?? r.reason ?? r.status }));
      pending = null;
      render();
    } catch (err) {
      if (err.status === 401 || err.status === 403) {
        status('failed', t('cmd.needAdmin'));
        askToken(cmd, value);
      } else status('failed', t('cmd.failed', { reason: err.message }));
    }
  }

  function askToken(cmd, value) {
    const input = h('input', { type: 'password', class: 'cmd-token', autocomplete: 'off', 'aria-label': t('cmd.adminToken'), placeholder: t('cmd.adminToken') });
    const go = h('button', { type: 'button', class: 'cmd-token-send', text: t('cmd.confirm') });
    go.addEventListener('click', () => {
      commandApi.rememberAdmin(input.value.trim());
      send(cmd, value, input.value.trim()).catch(() => {});
    });
    el.append(h('div', { class: 'cmd-auth' }, input, go));
  }

  function confirmRow(cmd, value) {
    pending = { cmd, value, key: `${device.id}-${cmd.name}-${Date.now()}-${Math.random().toString(36).slice(2, 8)}` };
    const yes = h('button', { type: 'button', class: 'cmd-confirm danger', text: t('cmd.confirm') });
    const no = h('button', { type: 'button', class: 'cmd-cancel', text: t('cmd.cancel') });
    yes.addEventListener('click', () => send(cmd, value, commandApi.adminToken()).catch(() => {}));
    no.addEventListener('click', () => {
      pending = null;
      render();
    });
    replaceChildren(el, [h('p', { class: 'cmd-question', text: t(`cmd.ask.${cmd.name}`, { device: device.id, value: value ?? '' }) }), h('div', { class: 'cmd-actions' }, yes, no)]);
  }

  function render(list = commands) {
    if (pending) return;
    const rows = list.filter((c) => OFFERED.has(c.name)).map((c) => {
      const label = t(`cmd.${c.name}`);
      if (c.value?.type === 'string') {
        const input = h('input', { type: 'text', class: 'cmd-value', 'data-command': c.name, maxlength: c.value.max_length ?? 32, placeholder: t(`cmd.placeholder.${c.name}`), 'aria-label': t(`cmd.placeholder.${c.name}`) });
        const btn = h('button', { type: 'button', class: 'cmd-button', 'data-command': c.name, text: label });
        btn.addEventListener('click', () => {
          const v = input.value.trim();
          if (!new RegExp(c.value.pattern, 'u').test(v)) return status('failed', t('cmd.badValue', { value: v }));
          confirmRow(c, v);
        });
        return h('div', { class: 'cmd-row' }, input, btn);
      }
      const btn = h('button', { type: 'button', class: 'cmd-button', 'data-command': c.name, text: label });
      btn.addEventListener('click', () => confirmRow(c, undefined));
      return h('div', { class: 'cmd-row' }, btn);
    });
    const s = el.querySelector('.cmd-status');
    replaceChildren(el, rows.length ? [h('h3', { text: t('cmd.title') }), ...rows, ...(s ? [s] : [])] : []);
  }

  let commands = [];
  commandApi
    .list(device.id, ctrl.signal)
    .then((list) => {
      commands = list;
      render();
    })
    .catch(() => {});

  return {
    el,
    destroy() {
      ctrl.abort();
    },
  };
}
