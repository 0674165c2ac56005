// The live power-flow diagram: PV, battery, grid → community → heat pumps. Arrows run in
// the direction power flows and stop when it does; each node shows its value with quality.
import { s, setText, setValue } from '../dom.js';

const W = 420;
const H = 300;
const NODES = {
  pv: { x: 70, y: 55, label: 'energy.pv' },
  grid: { x: 350, y: 55, label: 'energy.grid' },
  community: { x: 210, y: 150, label: 'energy.community' },
  battery: { x: 70, y: 245, label: 'energy.battery' },
  hp: { x: 350, y: 245, label: 'energy.heatPumps' },
};
// Each link is drawn from its first node to its second; a negative flow reverses the arrow.
const LINKS = [
  ['pv', 'community'],
  ['grid', 'community'],
  ['community', 'battery'],
  ['community', 'hp'],
];
const IDLE_W = 5;

function svgValue(key, x, y) {
  return s('text', { x, y, class: 'val q-unknown', 'data-k': key, 'text-anchor': 'middle' }, s('tspan', { class: 'num' }, '–'), s('tspan', { class: 'unit' }));
}

export function flowDiagram(ctx) {
  const values = {};
  const subs = {};
  const links = {};
  const svg = s('svg', { viewBox: `0 0 ${W} ${H}`, class: 'flow', role: 'img', 'aria-label': ctx.t('energy.flow') });
  for (const [a, b] of LINKS) {
    const p = NODES[a];
    const q = NODES[b];
    const line = s('line', { x1: p.x, y1: p.y, x2: q.x, y2: q.y, class: 'link idle', 'data-link': `${a}-${b}` });
    links[`${a}-${b}`] = line;
    svg.append(line);
  }
  for (const [id, n] of Object.entries(NODES)) {
    values[id] = svgValue(`energy.${id}`, n.x, n.y + 8);
    subs[id] = s('text', { x: n.x, y: n.y + 27, class: 'sub', 'text-anchor': 'middle', 'data-sub': id });
    svg.append(
      s(
        'g',
        { class: `node node-${id}` },
        s('rect', { x: n.x - 62, y: n.y - 36, width: 124, height: 72, rx: 10 }),
        s('text', { x: n.x, y: n.y - 15, class: 'label', 'text-anchor': 'middle' }, ctx.t(n.label)),
        values[id],
        subs[id],
      ),
    );
  }

  function setLink(id, watts) {
    const el = links[id];
    let cls = 'link idle';
    if (typeof watts === 'number' && Math.abs(watts) >= IDLE_W) cls = watts > 0 ? 'link fwd' : 'link rev';
    if (el.getAttribute('class') !== cls) el.setAttribute('class', cls);
  }

  /** Show a balance from derive.energyBalance(). */
  function update(b) {
    setValue(values.pv, b.pv, 'W', ctx);
    setValue(values.grid, b.grid, 'W', ctx);
    setValue(values.community, b.load, 'W', ctx);
    setValue(values.battery, b.battery, 'W', ctx);
    setValue(values.hp, b.hpElectric, 'W', ctx);
    const g = b.grid.value;
    setText(subs.grid, g === null ? '' : ctx.t(g > IDLE_W ? 'energy.importing' : g < -IDLE_W ? 'energy.exporting' : 'energy.idle'));
    const bp = b.battery.value;
    const soc = b.soc.value === null ? '' : ` · ${Math.round(b.soc.value)} %`;
    setText(subs.battery, bp === null ? '' : ctx.t(bp > IDLE_W ? 'energy.charging' : bp < -IDLE_W ? 'energy.discharging' : 'energy.idle') + soc);
    setText(subs.hp, b.cop.value === null ? '' : `COP ${b.cop.value.toFixed(2)}`);
    setLink('pv-community', b.pv.value);
    setLink('grid-community', g);
    setLink('community-battery', bp);
    setLink('community-hp', b.hpElectric.value);
  }

  return { el: svg, update };
}
