import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DRIVERS } from '../../drivers/index.js';
import { loadProfiles } from '../../gateway/site/profiles.js';
import { readGoldenDoc, reportText, runGoldenDoc } from '../../gateway/golden/run.js';

const { profiles } = loadProfiles(DRIVERS);

/**
 * The repository's own golden cases run through the runner `fcgw profile test` uses
 * (gateway/golden/run.ts): one test per file, every case green, the runner's diff as the message.
 */
export function describeGolden(title: string, dir: string): void {
  describe(title, () => {
    const files = readdirSync(dir).filter((f) => f.endsWith('.yaml')).sort();
    it('has golden files', () => expect(files.length).toBeGreaterThan(0));
    for (const f of files) {
      it(f, async () => {
        const doc = readGoldenDoc(join(dir, f));
        expect(f).toBe(`${doc.profile}.yaml`);
        const profile = profiles.get(doc.profile);
        if (!profile) throw new Error(`${f}: no profile ${doc.profile}`);
        const driver = DRIVERS.find((d) => d.profileProtocol === profile.protocol);
        if (!driver) throw new Error(`${f}: no driver for ${profile.protocol}`);
        const report = await runGoldenDoc(doc, profile, driver);
        const text = reportText(f, report);
        expect(report.problems, text).toEqual([]);
        expect(report.cases.length, text).toBe(doc.cases.length);
        expect(report.cases.filter((c) => !c.ok).map((c) => c.name), text).toEqual([]);
      });
    }
  });
}
