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
  private readonly idPatterns = new Map<string, RegExp[]>();

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
   * The client id is one of the user's patterns, and no user with a longer name also matches it
   * (with `{username}-*`, user "meter" does not get "meter-2-a" when a user "meter-2" exists).
   */
  mayUseClientId(username: string, clientId: string): boolean {
    if (!this.idPatterns.get(username)?.some((re) => re.test(clientId))) return false;
    for (const [other, res] of this.idPatterns) {
      if (other !== username && other.length > username.length && res.some((re) => re.test(clientId))) return false;
    }
    return true;
  }
}

const expand = (filter: string, username: string) => filter.replaceAll('{username}', username);

function idPattern(pattern: string, username: string): RegExp {
  const text = expand(pattern, username)
    .split('*')
    .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*');
  return new RegExp(`^${text}$`);
}
