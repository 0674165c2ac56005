import { describe, expect, it } from 'vitest';
import { checkValue } from '../../../drivers/core/commands.js';
import { modbusProfileSchema } from '../../../drivers/modbus/profile-schema.js';
import { checkModbusProfile } from '../../../drivers/modbus/checks.js';
import { checkMqttProfile } from '../../../drivers/mqtt/checks.js';
import { mqttProfileSchema } from '../../../drivers/mqtt/profile-schema.js';
import { parseConfig } from '../../../gateway/config/load.js';
import { dwellUntil, holdingInterlocks, RateLimiter } from '../../../gateway/control/guards.js';
import { siteOf } from '../../../gateway/site/index.js';

/**
 * Commands are data checked by the one site validation: their values are typed and bounded, a
 * profile's commands are complete for their protocol, and the control section names devices that
 * exist and take the commands it uses. And the guards, as pure functions.
 */

const base = `version: 1
site: { id: v, timezone: Asia/Shanghai }
store: { path: ':memory:' }
connections:
  - { id: plant, protocol: modbus-tcp, host: 127.0.0.1, port: 1502 }
devices:
  - { id: hp-1, class: heat_pump, connection: plant, profile: heat-pump-xyzz, unit: 3 }
  - { id: tank-1, class: thermal_storage, connection: plant, profile: heat-pump-xyzz, unit: 3 }
  - { id: grid, class: grid_meter, connection: plant, profile: sunspec, unit: 1 }
  - { id: ess, class: battery, connection: plant, profile: plain-ess, unit: 5, options: { rated_power_w: OPT } }
`;

const problems = (extra: string, rating = '50000') => {
  let config;
  try {
    config = parseConfig(base.replace('OPT', rating) + extra, 'v.yaml', {});
  } catch (err) {
    return [String((err as Error & { problems?: unknown }).problems ? JSON.stringify((err as Error & { problems?: unknown }).problems) : (err as Error).message)];
  }
  const r = siteOf(config);
  return r.ok ? [] : r.problems.map((p) => `${p.path}: ${p.message}`);
};

describe('the control section in the one validation', () => {
  it('a valid section passes', () => {
    expect(
      problems(`control:
  interlocks: [{ devices: [hp-1], commands: [sg_ready], when: { device: tank-1, metric: top_temp, above: 60 }, reason: tank too hot }]
  surplus: { enabled: true, grid_meter: grid, heat_pumps: [{ device: hp-1, tank: tank-1 }], batteries: [{ device: ess }] }
`),
    ).toEqual([]);
  });

  it('names what is wrong, where', () => {
    const p = problems(
      `control:
  interlocks: [{ devices: [hp-9], commands: [sg_ready], when: { device: tank-1, metric: top_temp, above: 60 }, reason: x }, { devices: [hp-1], commands: [defrost], when: { device: tank-1, metric: top_temp, above: 60 }, reason: x }]
  surplus: { enabled: true, heat_pumps: [{ device: ess }], batteries: [{ device: hp-1, soc_min: 95, soc_max: 90 }] }
`,
      '-5',
    );
    expect(p).toEqual(
      expect.arrayContaining([
        'control.interlocks[0].devices[0]: no configured device "hp-9" (did you mean "hp-1"?)',
        'control.interlocks[1].commands[0]: device hp-1 takes no command defrost',
        'control.surplus.grid_meter: surplus control needs the grid meter whose power it watches',
        'control.surplus.heat_pumps[0].device: device ess (profile plain-ess) takes no command sg_ready',
        'control.surplus.batteries[0].device: device hp-1 (profile heat-pump-xyzz) takes no command power_setpoint',
        'control.surplus.batteries[0].soc_min: soc_min 95 must stay below soc_max 90',
        'devices[3].options.rated_power_w: the rating that bounds power_setpoint must be a positive number',
      ]),
    );
  });

  it('an interlock without a condition, and an unknown key, are schema problems', () => {
    expect(problems('control:\n  interlocks: [{ devices: [hp-1], when: { device: hp-1, metric: mode }, reason: x }]\n').join('\n')).toContain('give above, below or equals');
    expect(problems('control:\n  dryrun: true\n').join('\n')).toContain('did you mean \\"dry_run\\"');
  });
});

describe("a profile's commands", () => {
  const modbus = (commands: unknown[]) =>
    checkModbusProfile({ ...modbusProfileSchema.parse({ id: 'x', description: 'x', classes: ['heat_pump'], protocol: 'modbus', points: [{ metric: 'electric_power', address: 1, type: 'int16', unit: 'W' }], commands }), file: 'x.yaml' }).map((p) => `${p.path.join('.')}: ${p.message}`);
  it('Modbus: an enum needs its register values, a trigger its raw value and read-back, a coil a boolean', () => {
    expect(modbus([{ name: 'sg', value: { type: 'enum', values: ['a', 'b'] }, write: { function: 'holding', address: 9, map: { '1': 'a' } } }])).toContain('commands.0.write.map: no register value for b');
    expect(modbus([{ name: 'go', value: { type: 'none' }, write: { function: 'holding', address: 9 } }])).toEqual([
      'commands.0.write.raw: a command without a value needs the raw value it writes',
      'commands.0.write.readback: a trigger needs a register that shows what it did (readback)',
    ]);
    expect(modbus([{ name: 'sp', value: { type: 'number', min: 0, max: 1 }, write: { function: 'coil', address: 0 } }])).toEqual(['commands.0.write.function: a coil takes a boolean command']);
    expect(() => modbus([{ name: 'Bad-Name', value: { type: 'boolean' }, write: { function: 'coil', address: 0 } }])).toThrow(/lower_snake_case/);
  });
  it('MQTT: a command must say how the device confirms it; patterns are anchored', () => {
    const p = checkMqttProfile({
      ...mqttProfileSchema.parse({ id: 'y', description: 'y', classes: ['parcel_locker'], protocol: 'mqtt', topic: 'l/{bank}/e', events: [{ type: 'compartment_fault' }], commands: [{ name: 'unlock', value: { type: 'string', pattern: '[A-Z]' }, write: { topic: 'l/{bank}/c', payload: { c: '{value}' } } }] }),
      file: 'y.yaml',
    }).map((x) => `${x.path.join('.')}: ${x.message}`);
    expect(p).toEqual(expect.arrayContaining(['commands.0.verify: an mqtt command needs the event or metric by which the device confirms it (verify.event or verify.metric)', 'commands.0.value.pattern: a pattern must be anchored (^…$)']));
  });
  it('every built-in profile with commands passes its checks (they are in the profile test too)', () => {
    expect(siteOf(parseConfig(base.replace('OPT', '1000'), 'v.yaml', {})).ok).toBe(true);
  });
});

describe('values and guards', () => {
  it('bounds: the rating narrows a number; the message names the bound', () => {
    const spec = { type: 'number' as const, min: -1e6, max: 1e6, unit: 'W', integer: true, rating: 'rated_power_w' };
    expect(checkValue(spec, 50_000, { rated_power_w: 50_000 })).toEqual({ ok: true, value: 50_000 });
    expect(checkValue(spec, 50_001, { rated_power_w: 50_000 })).toMatchObject({ ok: false, bound: '-50000..50000 W' });
    for (const bad of ['1', NaN, Infinity, null, true, [1], { v: 1 }, 1.5]) expect(checkValue(spec, bad, { rated_power_w: 50_000 }).ok, String(bad)).toBe(false);
    const str = { type: 'string' as const, pattern: '^[A-Z]-[0-9]{1,3}$', max_length: 5 };
    for (const bad of ['A-1\n', 'a-1', 'A-1234', 'A-1;', '', 'Ａ-1']) expect(checkValue(str, bad).ok, bad).toBe(false);
    expect(checkValue({ type: 'none' }, 'x')).toMatchObject({ ok: false });
    expect(checkValue({ type: 'enum', values: ['a'] }, '__proto__')).toMatchObject({ ok: false, bound: 'a' });
  });
  it('rate: a sliding minute per device', () => {
    const r = new RateLimiter(2);
    expect([r.take('a', 0), r.take('a', 1), r.take('a', 2), r.take('b', 2), r.take('a', 60_001)]).toEqual([true, true, false, true, true]);
  });
  it('dwell: the same value is no change; another waits', () => {
    expect(dwellUntil({ ts: 1000, value: '"recommend"' }, '"recommend"', 600_000)).toBeUndefined();
    expect(dwellUntil({ ts: 1000, value: '"recommend"' }, '"normal"', 600_000)).toBe(601_000);
    expect(dwellUntil(undefined, '"normal"', 600_000)).toBeUndefined();
  });
  it('interlocks hold on their condition, and on a missing or old value (fail safe)', () => {
    const il = [{ devices: ['hp-1'], commands: [], when: { device: 'tank-1', metric: 'top_temp', above: 60 }, max_age: 600_000, reason: 'too hot' }];
    const row = (value: number, ts: number) => ({ device: 'tank-1', class: 'thermal_storage', metric: 'top_temp', ts, value, quality: 'good' as const, receivedAt: ts });
    expect(holdingInterlocks(il, 'hp-1', 'sg_ready', () => row(50, 1000), 2000)).toEqual([]);
    expect(holdingInterlocks(il, 'hp-1', 'sg_ready', () => row(61, 1000), 2000)).toEqual(['too hot (tank-1.top_temp = 61)']);
    expect(holdingInterlocks(il, 'hp-1', 'sg_ready', () => undefined, 2000)[0]).toContain('no current tank-1.top_temp');
    expect(holdingInterlocks(il, 'hp-1', 'sg_ready', () => row(50, 0), 700_000)[0]).toContain('no current');
    expect(holdingInterlocks(il, 'hp-2', 'sg_ready', () => undefined, 2000)).toEqual([]);
  });
});
