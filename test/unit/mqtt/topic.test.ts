import { describe, expect, it } from 'vitest';
import { compilePath, getPath } from '../../../drivers/mqtt/json-path.js';
import { covers } from '../../../drivers/mqtt/router.js';
import { compileTopic, expandTemplate, toSlug } from '../../../drivers/mqtt/topic.js';

describe('topic templates with named wildcards', () => {
  it('captures named levels and builds the subscription filter', () => {
    const t = compileTopic('application/{app}/device/{devEui}/event/up');
    expect(t.filter).toBe('application/+/device/+/event/up');
    expect(t.exact).toBe(false);
    expect(t.match('application/a1/device/0102/event/up')).toEqual({ app: 'a1', devEui: '0102' });
    expect(t.match('application/a1/device/0102/event/join')).toBeUndefined();
    expect(t.match('application/a1/device/0102/event/up/x')).toBeUndefined();
  });

  it('fills known names, keeps + and #, captures the rest with {name#}', () => {
    const t = compileTopic('devices/{device}/up', { device: 'space-1' });
    expect(t.exact).toBe(true);
    expect(t.filter).toBe('devices/space-1/up');
    expect(compileTopic('a/+/#').match('a/b/c/d')).toEqual({});
    expect(compileTopic('ocpp/{cp}/{rest#}').match('ocpp/ev-1/x/y')).toEqual({ cp: 'ev-1', rest: 'x/y' });
    expect(compileTopic('{x}/y').match('$SYS/y')).toBeUndefined();
  });

  it('refuses malformed templates', () => {
    expect(() => compileTopic('a/#/b')).toThrow(/must be the last level/);
    expect(() => compileTopic('a/b{c}/d')).toThrow(/bad level/);
  });

  it('knows when one filter covers another', () => {
    expect(covers('a/+/c', 'a/b/c')).toBe(true);
    expect(covers('a/#', 'a/b/+')).toBe(true);
    expect(covers('a/b/c', 'a/+/c')).toBe(false);
    expect(covers('a/+', 'a/b/c')).toBe(false);
  });

  it('expands id templates and makes slugs', () => {
    const vars: Record<string, unknown> = { devEui: 'A1B2', 'tags.zone': 'b2' };
    expect(expandTemplate('space-{devEui}', (n) => vars[n])).toBe('space-A1B2');
    expect(expandTemplate('space-{missing}', (n) => vars[n])).toBeUndefined();
    expect(toSlug('Space A1B2/x')).toBe('space-a1b2-x');
  });
});

describe('JSON paths', () => {
  const doc = { a: { b: [{ c: 1 }, { c: 2 }] }, sv: [{ m: 'Energy.Active.Import.Register', v: '10' }, { m: 'Power.Active.Import', v: '7' }] };
  it.each([
    ['a.b[1].c', 2],
    ['$.a.b[0].c', 1],
    ['sv[?m=Power.Active.Import].v', '7'],
    ['sv[?m=Energy.Active.Import.Register].v', '10'],
    ['sv[?m=Voltage].v', undefined],
    ['a.x.y', undefined],
    ['$', doc],
  ])('%s', (path, want) => {
    expect(getPath(doc, compilePath(path))).toEqual(want);
  });
  it('refuses a malformed path', () => {
    expect(() => compilePath('a[x]')).toThrow(/bad JSON path/);
  });
});
