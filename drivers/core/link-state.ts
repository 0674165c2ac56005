import type { LinkState } from './driver.js';

/** The state of a polled link (Modbus, a meter bus) and the listeners told of its changes. */
export class LinkStateHolder {
  state: LinkState = 'stopped';
  private readonly listeners = new Set<(state: LinkState) => void>();

  onState(fn: (state: LinkState) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  protected setState(s: LinkState): void {
    if (this.state === s) return;
    this.state = s;
    for (const l of this.listeners) l(s);
  }
}
