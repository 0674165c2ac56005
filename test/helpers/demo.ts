import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseDocument, type Document } from 'yaml';
import { freePort } from './peers.js';

const root = join(import.meta.dirname, '../..');

export interface DemoCopy {
  /** The relocated demo config, written to `dir`. */
  configFile: string;
  text: string;
  /** Fixed demo port → the free port it moved to (broker, API, Modbus and OPC UA simulators). */
  ports: Map<number, number>;
}

/**
 * config/demo.yaml and its simulator scenario, copied into `dir` with every fixed loopback port
 * (broker, API, simulator endpoints and the connections that poll them) moved to a free one, and
 * the store in `dir`: a test runs the real demo without colliding with another test or with a
 * demo someone is running. `edit` may change the config document further before it is written.
 */
export async function relocatedDemo(dir: string, edit?: (doc: Document) => void): Promise<DemoCopy> {
  const configText = readFileSync(join(root, 'config/demo.yaml'), 'utf8');
  const scenarioRel = String(parseDocument(configText).getIn(['simulators', 'scenario']));
  const scenarioText = readFileSync(join(root, scenarioRel), 'utf8');

  // `port: N` keys, and the port of endpoint URLs such as opc.tcp://127.0.0.1:48400 or http://127.0.0.1:15080/….
  const PORT = /\bport: (\d+)\b|((?:opc\.tcp|http):\/\/[^:/\s"']+:)(\d+)\b/g;
  const ports = new Map<number, number>();
  for (const text of [configText, scenarioText]) {
    for (const m of text.matchAll(PORT)) {
      const p = Number(m[1] ?? m[3]);
      if (p > 0 && !ports.has(p)) ports.set(p, await freePort());
    }
  }
  const move = (text: string) => text.replace(PORT, (all, p: string | undefined, url: string | undefined, up: string | undefined) => {
    const to = ports.get(Number(p ?? up));
    if (to === undefined) return all;
    return p !== undefined ? `port: ${to}` : `${url}${to}`;
  });

  const scenarioFile = join(dir, 'scenario.yaml');
  writeFileSync(scenarioFile, move(scenarioText));
  const doc = parseDocument(move(configText));
  doc.setIn(['store', 'path'], join(dir, 'demo.db'));
  doc.setIn(['simulators', 'scenario'], scenarioFile);
  edit?.(doc);
  const text = doc.toString();
  const configFile = join(dir, 'demo.yaml');
  writeFileSync(configFile, text);
  return { configFile, text, ports };
}
