import { format } from 'node:util';
import type { Logger } from 'pino';
import type { OpcuaLib } from './library.js';

let routed = false;

/**
 * node-opcua writes its warnings and errors straight to the console, which would interleave with
 * the gateway's JSON log lines. Route them (process-wide, once) into the gateway's log instead:
 * its warnings at debug level (they are chatty: certificate creation, operational limits), its
 * errors as warnings.
 */
export function routeNodeOpcuaLogs(ua: OpcuaLib, log: Logger): void {
  if (routed) return;
  routed = true;
  const line = (args: unknown[]) => format(...args).replace(/\s+/g, ' ').trim().slice(0, 2000);
  ua.setWarningLogger((...args: unknown[]) => log.debug({ src: 'node-opcua' }, line(args)));
  ua.setErrorLogger((...args: unknown[]) => log.warn({ src: 'node-opcua' }, line(args)));
}
