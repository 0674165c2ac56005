import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The parts of a compose file the deployment test reads. */
export interface Service {
  image?: string;
  build?: { context?: string; dockerfile?: string };
  command?: string[];
  environment?: Record<string, string | number | boolean>;
  volumes?: string[];
  ports?: string[];
  depends_on?: Record<string, { condition?: string }>;
  healthcheck?: { test?: unknown; disable?: boolean };
}

export interface Compose {
  services: Record<string, Service>;
  volumes?: Record<string, unknown>;
}

/**
 * Compose's interpolation of `${VAR}`, `${VAR:-default}` and `${VAR:?message}` (an unset or empty
 * VAR with `:?` is an error, as `docker compose` refuses to start).
 */
export function interpolate(s: string, env: Record<string, string>): string {
  return s.replace(/\$\{(\w+)(?::([-?])([^}]*))?\}/g, (_, name: string, op: string | undefined, arg: string | undefined) => {
    const v = env[name];
    if (v !== undefined && v !== '') return v;
    if (op === '?') throw new Error(`${name}: ${arg ?? 'required'}`);
    return op === '-' ? (arg ?? '') : '';
  });
}

/** A .env file (KEY=value lines), with every empty value (the secrets) filled with `secret`. */
export function composeEnv(envFile: string, secret: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of envFile.matchAll(/^(\w+)=(.*)$/gm)) out[m[1] as string] = (m[2] as string).trim() || secret;
  return out;
}

export interface DashboardQuery {
  panel: string;
  datasourceUid: string | undefined;
  text: string;
}

interface Panel {
  title?: string;
  datasource?: { uid?: string };
  targets?: { query?: string; datasource?: { uid?: string } }[];
  panels?: Panel[];
}

/** Every Flux query of every dashboard JSON in a folder (rows' nested panels included). */
export function readDashboards(dir: string): { file: string; uid: string; queries: DashboardQuery[] }[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .map((file) => {
      const d = JSON.parse(readFileSync(join(dir, file), 'utf8')) as { uid: string; panels: Panel[] };
      const queries: DashboardQuery[] = [];
      const walk = (panels: Panel[]) => {
        for (const p of panels) {
          for (const t of p.targets ?? []) {
            queries.push({ panel: p.title ?? '?', datasourceUid: t.datasource?.uid ?? p.datasource?.uid, text: t.query ?? '' });
          }
          walk(p.panels ?? []);
        }
      };
      walk(d.panels);
      return { file, uid: d.uid, queries };
    });
}
