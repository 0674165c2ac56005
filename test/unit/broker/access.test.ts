import { describe, expect, it } from 'vitest';
import { AccessRules } from '../../../gateway/broker/access.js';
import { CheckQueue, LoginLimiter, addressKey } from '../../../gateway/broker/login-limiter.js';
import { BoundedLabels, RateLimitedLog } from '../../../gateway/broker/refusal-log.js';
import { filterCovers, topicMatches } from '../../../gateway/broker/topics.js';

describe('topic filters', () => {
  it.each([
    ['a/+/c', 'a/b/c', true],
    ['a/#', 'a/b/c', true],
    ['a/#', 'a', true],
    ['+/b', 'a/b/c', false],
    ['#', '$SYS/x', false],
    ['+/#', '$SYS/x', false],
    ['+', '$SYS', false],
    ['$SYS/#', '$SYS/fcgw/new/clients', true],
    ['a/+', 'a/', true],
    ['application/+/device/+/event/up', 'application/7/device/0102/event/up', true],
  ])('%s matches %s: %s', (f, t, want) => expect(topicMatches(f, t)).toBe(want));

  it.each([
    ['#', '#', true],
    ['#', 'a/+/c', true],
    ['#', '$SYS/#', false],
    ['#', '$SYS/fcgw/x', false],
    ['+/#', '$SYS/x', false],
    ['a/#', '#', false],
    ['a/#', 'a/#', true],
    ['a/#', 'a', true],
    ['a/+', 'a/#', false],
    ['a/+', 'a/+', true],
    ['a/+', 'a/b', true],
    ['a/b', 'a/+', false],
    ['a/+/c', 'a/+/+', false],
    ['fc/+/meter/#', 'fc/x/meter/m1/energy', true],
    ['fc/+/meter/#', 'fc/+/+/#', false],
  ])('%s covers %s: %s', (allowed, requested, want) => expect(filterCovers(allowed, requested)).toBe(want));
});

describe('client ids per user', () => {
  const users = new Map(
    [
      { username: 'meter', publish: [], subscribe: [] },
      { username: 'meter-2', publish: [], subscribe: [] },
      { username: 'esp', publish: [], subscribe: [], client_ids: ['ESP_*'] },
      { username: 'a.b', publish: [], subscribe: [] },
    ].map((u) => [u.username, u]),
  );
  const rules = new AccessRules(users, ['{username}', '{username}-*']);
  it.each([
    ['meter', 'meter', true],
    ['meter', 'meter-1', true],
    ['meter', 'meter-', true],
    ['meter', 'meter-2', false],
    ['meter', 'meter-2-a', false],
    ['meter-2', 'meter-2', true],
    ['meter-2', 'meter-2-a', true],
    ['meter', 'meterX', false],
    ['meter', 'xmeter', false],
    ['esp', 'ESP_1A2B', true],
    ['esp', 'esp', false],
    ['a.b', 'aXb', false],
    ['a.b', 'a.b-1', true],
    ['nobody', 'nobody', false],
  ])('%s may use %s: %s', (user, id, want) => expect(rules.mayUseClientId(user, id)).toBe(want));
});

describe('login limiter', () => {
  it('refuses after max failures in the window, counts logins in flight, forgets old failures', () => {
    let now = 0;
    const l = new LoginLimiter({ maxFailures: 3, windowMs: 1000, now: () => now });
    expect([l.begin('a'), l.begin('a'), l.begin('a'), l.begin('a')]).toEqual([true, true, true, false]);
    l.end('a', false);
    l.end('a', false);
    l.end('a', true);
    expect(l.begin('a')).toBe(true);
    l.end('a', false);
    expect(l.begin('a')).toBe(false);
    expect(l.begin('b')).toBe(true);
    now = 1001;
    expect(l.begin('a')).toBe(true);
  });

  it('stays bounded under many addresses', () => {
    const l = new LoginLimiter({ maxFailures: 1, windowMs: 60_000, now: () => 0, maxAddresses: 100 });
    for (let i = 0; i < 1000; i++) {
      l.begin(`10.0.${i >> 8}.${i & 255}`);
      l.end(`10.0.${i >> 8}.${i & 255}`, false);
    }
    expect(l.begin('10.0.3.231')).toBe(false);
    expect(l.begin('10.0.0.0')).toBe(true);
  });
});

describe('limiter keys and the check queue', () => {
  it.each([
    ['192.168.1.20', '192.168.1.20'],
    ['::ffff:192.168.1.20', '192.168.1.20'],
    ['2001:db8:1:2:aaaa::1', '2001:db8:1:2::/64'],
    ['2001:db8:1:2:bbbb:cccc:dddd:eeee', '2001:db8:1:2::/64'],
    ['2001:db8::1', '2001:db8:0:0::/64'],
    ['::1', '0:0:0:0::/64'],
    ['fe80::1', 'fe80:0:0:0::/64'],
  ])('%s counts as %s', (addr, key) => expect(addressKey(addr)).toBe(key));

  it('runs at most max checks at once, the rest in arrival order', async () => {
    const q = new CheckQueue(2);
    let running = 0;
    let most = 0;
    const order: number[] = [];
    await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        q.run(async () => {
          running++;
          most = Math.max(most, running);
          await new Promise((r) => setTimeout(r, 5));
          order.push(i);
          running--;
        }),
      ),
    );
    expect(most).toBe(2);
    expect(order).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  });
});

describe('refusal log and labels', () => {
  it('one line per key and interval, with the count suppressed meanwhile', () => {
    let now = 0;
    const r = new RateLimitedLog({ intervalMs: 1000, now: () => now });
    expect([r.take('x'), r.take('x'), r.take('x'), r.take('y')]).toEqual([0, undefined, undefined, 0]);
    now = 1000;
    expect(r.take('x')).toBe(2);
  });

  it('caps the distinct user/topic labels', () => {
    const b = new BoundedLabels(2);
    expect([b.topic('u', 'a'), b.topic('u', 'b'), b.topic('u', 'c'), b.topic('u', 'a')]).toEqual(['a', 'b', '(other)', 'a']);
  });
});
