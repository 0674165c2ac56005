import { writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { Recording } from '../../drivers/core/recording.js';
import { parseDuration } from '../model/config-units.js';
import { Pseudonymiser, loadSiteSecret } from '../pipeline/pseudonymise.js';
import { loadSite, siteOrThrow } from '../site/index.js';
import { DEFAULT_CONFIG, type Command } from './common.js';

const USAGE = `fcgw record -c CONFIG --device ID --for DURATION [-o FILE]
  Capture what a device says on the wire for DURATION (e.g. 10m) to FILE (default
  <device>-<time>.rec.json): Modbus reads with the words the device answered, MQTT messages with
  topic and payload (personal fields replaced by the site's pseudonyms), DL/T 645 and CJ/T 188
  request and reply frames, OPC UA DataValues (status, type, timestamps, unit in effect).
  A Modbus device takes one connection: record while the gateway is stopped, or from a device
  that accepts two. Replay it with: fcgw replay FILE.`;

export const recordCommand: Command = {
  usage: USAGE,
  async run(opts) {
    const file = opts.config ?? DEFAULT_CONFIG;
    const ms = opts.for ? parseDuration(opts.for) : undefined;
    if (!opts.device || ms === undefined || ms <= 0) {
      process.stderr.write(`${USAGE}\n`);
      return 2;
    }
    const site = siteOrThrow(loadSite(file), file);
    const device = site.devices.get(opts.device);
    if (!device) {
      process.stderr.write(`fcgw record: no device "${opts.device}" in ${file}\n`);
      return 2;
    }
    const conn = site.connections.get(device.config.connection);
    if (!conn?.driver.record) {
      process.stderr.write(`fcgw record: the ${device.profile.protocol} driver cannot record\n`);
      return 2;
    }
    const cfg = site.config;
    const dataDir = dirname(resolve(cfg.store.path));
    const pseudo = new Pseudonymiser(loadSiteSecret({ envName: cfg.privacy.secret_env, file: cfg.privacy.secret_file ?? join(dataDir, 'site-secret') }));
    const rec: Recording = {
      format: 'fcgw-recording/1',
      protocol: device.profile.protocol,
      profile: device.profile.id,
      device: { id: device.config.id, class: device.config.class, options: device.config.options, ...(device.config.address !== undefined ? { address: device.config.address } : {}) },
      started: new Date().toISOString(),
      entries: [],
    };
    const out = opts.out ?? `${device.config.id}-${rec.started.replace(/[:.]/g, '-')}.rec.json`;
    const abort = new AbortController();
    const stop = () => abort.abort();
    process.once('SIGINT', stop);
    process.stderr.write(`recording ${device.config.id} for ${opts.for} (Ctrl-C stops early) → ${out}\n`);
    try {
      await conn.driver.record({ connection: conn.config, device: device.config, profile: device.profile, durationMs: ms, pseudonym: (v) => pseudo.pseudonym(v), entry: (e) => rec.entries.push(e), ready: () => process.stderr.write('listening\n'), dataDir, signal: abort.signal });
    } finally {
      process.off('SIGINT', stop);
      writeFileSync(out, `${JSON.stringify(rec, null, 1)}\n`);
    }
    process.stdout.write(`${out}: ${rec.entries.length} entries\n`);
    return 0;
  },
};
