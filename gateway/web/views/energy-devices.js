// The devices behind the power flow, one row each, so every sum on the diagram can be traced
// to the readings it adds up (and a stale inverter shows where a total is uncertain).
import { h, metricEl, replaceChildren, setValue, table } from '../dom.js';
import { noDataRow } from './common.js';

const MAX_ROWS = 30;
// Class → the metrics shown, in the catalog unit.
const SHOWN = {
  pv_inverter: [['ac_power', 'W']],
  battery: [['power', 'W'], ['soc', '%']],
  grid_meter: [['power', 'W']],
  heat_pump: [['electric_power', 'W'], ['thermal_power', 'W']],
};

export function energyDevices(ctx) {
  const tbl = table(['common.device', 'devices.class', 'energy.power', 'energy.second'], ctx, 'energy-devices');
  const cells = new Map();

  function update() {
    const { state, t } = ctx;
    const list = Object.keys(SHOWN).flatMap((cls) => state.devicesOf(cls));
    const rows = list.slice(0, MAX_ROWS).map((d) => {
      let row = cells.get(d.id);
      if (!row) {
        const els = SHOWN[d.class].map(([m]) => metricEl(d.id, m));
        row = { els, tr: h('tr', { 'data-device': d.id }, h('td', { class: 'id', text: d.id }), h('td', { text: t(`class.${d.class}`) }), ...els.map((e) => h('td', { class: 'num' }, e)), els.length < 2 ? h('td') : null) };
        cells.set(d.id, row);
      }
      SHOWN[d.class].forEach(([m, unit], i) => setValue(row.els[i], state.latestOf(d.id, m), unit, ctx));
      return row.tr;
    });
    if (list.length > MAX_ROWS) rows.push(h('tr', {}, h('td', { colspan: 4, class: 'more', text: t('common.more', { n: list.length - MAX_ROWS }) })));
    if (rows.length === 0) rows.push(noDataRow(t, 4));
    // Rows are reused, so replacing the body's children keeps the same nodes: nothing accumulates.
    replaceChildren(tbl.body, rows);
  }

  return { el: tbl.el, update };
}
