import { afterEach } from 'vitest';

/**
 * Things a test started (servers, gateways, temp dirs), undone after each test, the last first.
 * Call once at the top of a test file; push what each test starts.
 */
export function cleanupsAfterEach(): (fn: () => Promise<void> | void) => void {
  let list: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    const todo = list.reverse();
    list = [];
    for (const c of todo) await c();
  });
  return (fn) => void list.push(fn);
}
