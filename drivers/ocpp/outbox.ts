import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TransactionMap, type Queued } from './proxy.js';

/** Transaction id pairs kept per charge point (the newest; older sessions are long closed). */
const MAX_PAIRS = 1000;

interface Saved {
  queue: Queued[];
  tx: [number, number][];
}

/**
 * Proxy mode's outbox: per charge point, the transaction messages waiting for the operator's
 * central system and the transaction id pairs, in one JSON file in the driver's data dir (written
 * whole and renamed), so a gateway restart during an outage loses none of them. The messages are
 * the charger's own, id tags included (the operator bills by them): the file is the owner's only.
 */
export class ProxyOutbox {
  private readonly file: string;
  private readonly entries = new Map<string, { queue: Queued[]; tx: TransactionMap }>();

  constructor(dataDir: string, connectionId: string) {
    mkdirSync(dataDir, { recursive: true });
    this.file = join(dataDir, `ocpp-${connectionId}-upstream-outbox.json`);
    let saved: Record<string, Saved> = {};
    try {
      saved = JSON.parse(readFileSync(this.file, 'utf8')) as Record<string, Saved>;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new Error(`${this.file}: not a proxy outbox (${(err as Error).message})`);
    }
    for (const [cp, s] of Object.entries(saved)) {
      const tx = new TransactionMap();
      for (const [local, up] of s.tx) tx.set(local, up);
      this.entries.set(cp, { queue: s.queue, tx });
    }
  }

  entry(cp: string): { queue: Queued[]; tx: TransactionMap } {
    let e = this.entries.get(cp);
    if (!e) {
      e = { queue: [], tx: new TransactionMap() };
      this.entries.set(cp, e);
    }
    return e;
  }

  /** How many messages wait, over all charge points. */
  get waiting(): number {
    let n = 0;
    for (const e of this.entries.values()) n += e.queue.length;
    return n;
  }

  save(): void {
    const out: Record<string, Saved> = {};
    for (const [cp, e] of this.entries) {
      const pairs = [...e.tx.toUpstream.entries()].slice(-MAX_PAIRS);
      if (e.queue.length === 0 && pairs.length === 0) continue;
      out[cp] = { queue: e.queue, tx: pairs };
    }
    const tmp = `${this.file}.tmp`;
    writeFileSync(tmp, JSON.stringify(out), { mode: 0o600 });
    renameSync(tmp, this.file);
  }
}
