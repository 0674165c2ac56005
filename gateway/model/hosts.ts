/** The address to dial for a server that listens on `host`: a wildcard listen address is reached on loopback. */
export function dialHost(host: string): string {
  return host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
}
