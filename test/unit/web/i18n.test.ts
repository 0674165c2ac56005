import { describe, expect, it } from 'vitest';
import { CATALOG } from '../../../gateway/model/catalog.js';
import { KPIS } from '../../../gateway/kpi/names.js';
import { DICTS, detectLang, translator } from '../../../gateway/web/i18n.js';

describe('languages', () => {
  it('has every key in both languages, none empty', () => {
    const en = Object.keys(DICTS.en).sort();
    const zh = Object.keys(DICTS.zh).sort();
    expect(zh).toEqual(en);
    for (const [k, v] of [...Object.entries(DICTS.en), ...Object.entries(DICTS.zh)]) expect(v.trim(), k).not.toBe('');
  });

  it('labels every catalog class, metric, enum value and event, and every KPI', () => {
    const keys = new Set(Object.keys(DICTS.zh));
    const missing: string[] = [];
    for (const [cls, def] of Object.entries(CATALOG)) {
      if (!keys.has(`class.${cls}`)) missing.push(`class.${cls}`);
      for (const [m, md] of Object.entries(def.metrics)) {
        if (!keys.has(`metric.${m}`)) missing.push(`metric.${m}`);
        for (const v of md.values ?? []) if (!keys.has(`enum.${v}`)) missing.push(`enum.${v}`);
      }
      for (const e of Object.keys(def.events)) if (!keys.has(`event.${e}`)) missing.push(`event.${e}`);
    }
    for (const k of Object.keys(KPIS)) if (!keys.has(`kpi.${k}`)) missing.push(`kpi.${k}`);
    expect(missing).toEqual([]);
  });

  it('really translates: the Chinese page is not English', () => {
    const same = Object.keys(DICTS.en).filter((k) => DICTS.en[k] === DICTS.zh[k] && /[a-z]{4,}/i.test(DICTS.en[k] ?? ''));
    // Names that stay Latin in Chinese too (SG Ready, COP/SPF abbreviations).
    expect(same).toEqual(['metric.sg_ready']);
  });

  it.each([
    [['zh-CN', 'en-US'], undefined, 'zh'],
    [['en-GB', 'zh'], undefined, 'en'],
    [['zh-TW'], undefined, 'zh'],
    [['de-DE', 'fr'], undefined, 'zh'],
    [['en-US'], 'zh', 'zh'],
    [['en-US'], 'xx', 'en'],
    [[], undefined, 'zh'],
  ] as const)('browser %j with stored %s → %s', (langs, stored, want) => {
    expect(detectLang(langs, stored)).toBe(want);
  });

  it('fills parameters and falls back to English, then to the key', () => {
    const t = translator('zh');
    expect(t('devices.count', { n: 1000 })).toBe('共 1000 台设备');
    expect(translator('en')('devices.page', { from: 1, to: 50, n: 1000 })).toBe('1–50 of 1000');
    expect(t('no.such.key')).toBe('no.such.key');
    expect(translator('fr')('nav.energy')).toBe('Energy');
  });
});
