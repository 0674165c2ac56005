import { filterCovers, topicMatches } from './topics.js';

export interface BrokerUser {
  username: string;
  publish: string[];
  subscribe: string[];
  client_ids?: string[] | undefined;
}

/**
 * What a configured user may do on the embedded broker: publish and subscribe only under the
 * listed filters (nothing by default), and connect only with client ids of its own patterns,
 * so one user cannot take another's id, kick its device or resume its persistent session.
 */
export class AccessRules {
  private readonly idPatterns = new Map<string, IdPattern[]>();

  constructor(
    private readonly users: ReadonlyMap<string, BrokerUser>,
    defaultClientIds: readonly string[],
  ) {
    for (const u of users.values()) {
      this.idPatterns.set(u.username, (u.client_ids ?? defaultClientIds).map((p) => idPattern(p, u.username)));
    }
  }

  mayPublish(username: string, topic: string): boolean {
    const u = this.users.get(username);
    return !!u && !topic.startsWith('$') && u.publish.some((f) => topicMatches(expand(f, username), topic));
  }

  maySubscribe(username: string, filter: string): boolean {
    const u = this.users.get(username);
    return !!u && u.subscribe.some((f) => filterCovers(expand(f, username), filter));
  }

  /**
   * The client id matches one of the user's patterns, and no other user's pattern matches it
   * more specifically (more literal characters): with `{username}-*`, user "meter" does not get
   * "meter-2" or "meter-2-a" when a user "meter-2" exists. Users whose patterns tie share the
   * ids; the broker then keeps each id with the user that took it first.
   */
  mayUseClientId(username: string, clientId: string): boolean {
    const mine = specificity(this.idPatterns.get(username), clientId);
    if (mine < 0) return false;
    for (const [other, patterns] of this.idPatterns) {
      if (other !== username && specificity(patterns, clientId) > mine) return false;
    }
    return true;
  }
}

const expand = (filter: string, username: string) => filter.replaceAll('{username}', username);

interface IdPattern {
  re: RegExp;
  /** Literal characters: the more, the more specific. */
  literal: number;
}

function idPattern(pattern: string, username: string): IdPattern {
  const parts = expand(pattern, username).split('*');
  const text = parts.map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('.*');
  return { re: new RegExp(`^${text}$`), literal: parts.join('').length };
}

/** The most specific of `patterns` matching `id`; -1 when none does. */
function specificity(patterns: IdPattern[] | undefined, id: string): number {
  let best = -1;
  for (const p of patterns ?? []) if (p.literal > best && p.re.test(id)) best = p.literal;
  return best;
}
