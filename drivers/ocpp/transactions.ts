import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** A transaction the central system started: what StopTransaction needs to say how much was charged. */
export interface OpenTransaction {
  chargePoint: string;
  connector: number;
  meterStart: number;
  startedAt: number;
}

interface State {
  next: number;
  open: Record<string, OpenTransaction>;
}

/**
 * Transaction ids that stay unique across restarts, and the open transactions' start meters, in
 * one small JSON file in the driver's data dir (written whole and renamed: a crash leaves the old
 * or the new file, never half of one). Id tags are personal data and are never written here.
 * An id is handed out only after the file holding it is on disk, so a restart never reuses one.
 */
export class TransactionLedger {
  private readonly file: string;
  private state: State;

  /** `first`: the lowest id handed out (a proxy keeps its own ids apart from the operator's). */
  constructor(dataDir: string, connectionId: string, first = 1) {
    mkdirSync(dataDir, { recursive: true });
    this.file = join(dataDir, `ocpp-${connectionId}-transactions.json`);
    const s = load(this.file);
    this.state = s.next < first ? { ...s, next: first } : s;
  }

  start(t: OpenTransaction): number {
    const id = this.state.next;
    this.state = { next: id + 1, open: { ...this.state.open, [String(id)]: t } };
    this.save();
    return id;
  }

  /** The open transaction (removed), or undefined when the id is not one of ours. */
  stop(id: number): OpenTransaction | undefined {
    const t = this.state.open[String(id)];
    if (!t) return undefined;
    const open = { ...this.state.open };
    delete open[String(id)];
    this.state = { next: this.state.next, open };
    this.save();
    return t;
  }

  /** OCPP 2.0.1: the charger names its transactions; keep one under its own id. */
  track201(key: string, t: OpenTransaction): void {
    this.state = { next: this.state.next, open: { ...this.state.open, [`cs:${key}`]: t } };
    this.save();
  }

  take201(key: string): OpenTransaction | undefined {
    const t = this.state.open[`cs:${key}`];
    if (!t) return undefined;
    const open = { ...this.state.open };
    delete open[`cs:${key}`];
    this.state = { next: this.state.next, open };
    this.save();
    return t;
  }

  get201(key: string): OpenTransaction | undefined {
    return this.state.open[`cs:${key}`];
  }

  /** Forget open transactions started before `before` (their stop is not coming). */
  prune(before: number): void {
    const open = Object.fromEntries(Object.entries(this.state.open).filter(([, t]) => t.startedAt >= before));
    if (Object.keys(open).length === Object.keys(this.state.open).length) return;
    this.state = { next: this.state.next, open };
    this.save();
  }

  get(id: number): OpenTransaction | undefined {
    return this.state.open[String(id)];
  }

  private save(): void {
    const tmp = `${this.file}.tmp`;
    writeFileSync(tmp, JSON.stringify(this.state));
    renameSync(tmp, this.file);
  }
}

function load(file: string): State {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return { next: 1, open: {} };
  }
  const s = JSON.parse(text) as State;
  if (!Number.isInteger(s.next) || s.next < 1 || typeof s.open !== 'object') throw new Error(`${file}: not a transaction ledger`);
  return s;
}
