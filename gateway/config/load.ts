import { readFileSync } from 'node:fs';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import type { z } from 'zod';
import { configSchema, type GatewayConfig } from './schema.js';

/** One thing wrong with a config, located in its file. */
export interface ConfigProblem {
  path: string;
  line?: number | undefined;
  message: string;
  /** Set when the problem is in another file than the config (a device profile). */
  file?: string | undefined;
}

export class ConfigError extends Error {
  readonly code = 'CONFIG_INVALID';
  constructor(
    readonly file: string,
    readonly problems: ConfigProblem[],
  ) {
    super(`${file}: ${problems.length} problem${problems.length === 1 ? '' : 's'}\n${problems.map(formatProblem).join('\n')}`);
  }
}

export function formatProblem(p: ConfigProblem): string {
  return `${p.file ? `${p.file}: ` : ''}${p.path || '(top level)'}${p.line !== undefined ? ` (line ${p.line})` : ''}: ${p.message}`;
}

export interface ParsedYaml {
  value: unknown;
  lineOf(path: readonly PropertyKey[]): number | undefined;
  problems: ConfigProblem[];
}

/** Parse YAML keeping enough to map any path back to its line. */
export function parseYaml(text: string): ParsedYaml {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: true, uniqueKeys: true });
  const problems: ConfigProblem[] = doc.errors.map((e) => ({
    path: '',
    line: e.linePos?.[0]?.line,
    message: e.message.split('\n')[0] ?? e.message,
  }));
  return {
    value: problems.length ? undefined : doc.toJS({ maxAliasCount: 100 }),
    lineOf: (path) => lineOfPath(doc, lineCounter, path),
    problems,
  };
}

function lineOfPath(doc: Document, lc: LineCounter, path: readonly PropertyKey[]): number | undefined {
  let node: unknown = doc.contents;
  let line: number | undefined = rangeLine(node, lc);
  for (const seg of path) {
    if (isMap(node)) {
      const pair = node.items.find((p) => (isScalar(p.key) ? String(p.key.value) : String(p.key)) === String(seg));
      if (!pair) return line;
      line = rangeLine(pair.key, lc) ?? line;
      node = pair.value;
    } else if (isSeq(node) && typeof seg === 'number') {
      node = node.items[seg];
      line = rangeLine(node, lc) ?? line;
    } else {
      return line;
    }
  }
  return line;
}

function rangeLine(node: unknown, lc: LineCounter): number | undefined {
  const range = (node as Node | undefined)?.range;
  return range ? lc.linePos(range[0]).line : undefined;
}

/**
 * Replace `${VAR}` and `${VAR:-default}` in every string value. Done on parsed values, not
 * on the text, so a variable can never change the YAML's structure.
 */
export function interpolateEnv(
  value: unknown,
  env: NodeJS.ProcessEnv,
  path: (string | number)[] = [],
  problems: { path: (string | number)[]; message: string }[] = [],
): unknown {
  if (typeof value === 'string') {
    return value.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g, (_, name: string, def: string | undefined) => {
      const v = env[name];
      if (v !== undefined && v !== '') return v;
      if (def !== undefined) return def;
      problems.push({ path, message: `environment variable ${name} is not set` });
      return '';
    });
  }
  if (Array.isArray(value)) return value.map((v, i) => interpolateEnv(v, env, [...path, i], problems));
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, interpolateEnv(v, env, [...path, k], problems)]),
    );
  }
  return value;
}

export function dotted(path: readonly PropertyKey[]): string {
  return path.reduce<string>(
    (s, seg) => (typeof seg === 'number' ? `${s}[${seg}]` : s ? `${s}.${String(seg)}` : String(seg)),
    '',
  );
}

/** Turn zod issues into located problems; an unknown-keys issue becomes one problem per key. */
export function zodProblems(issues: readonly z.core.$ZodIssue[], lineOf: ParsedYaml['lineOf']): ConfigProblem[] {
  const out: ConfigProblem[] = [];
  for (const iss of issues) {
    if (iss.code === 'unrecognized_keys') {
      const lines = iss.message.split('\n');
      iss.keys.forEach((k, i) => {
        const p = [...iss.path, k];
        const msg = (lines[i] ?? `"${k}": unknown key`).replace(/^"[^"]*": /, '');
        out.push({ path: dotted(p), line: lineOf(p), message: msg });
      });
      continue;
    }
    if (iss.code === 'invalid_union' && 'errors' in iss && iss.errors.length === 0 && 'note' in iss) {
      out.push({ path: dotted(iss.path), line: lineOf(iss.path), message: iss.message });
      continue;
    }
    out.push({ path: dotted(iss.path), line: lineOf(iss.path), message: issueMessage(iss) });
  }
  return out;
}

function issueMessage(iss: z.core.$ZodIssue): string {
  if (iss.code === 'invalid_type' && iss.message.startsWith('Invalid input: expected') && iss.message.includes('received undefined'))
    return 'is required';
  return iss.message;
}

/** A config text parsed against the config schema: the config, or its problems; and where each path is. */
export interface ParsedConfig {
  config?: Readonly<GatewayConfig>;
  problems: ConfigProblem[];
  lineOf: ParsedYaml['lineOf'];
}

/**
 * YAML, `${ENV}` and the config schema (sections that need no protocol knowledge). The rest of
 * the validation, drivers and profiles included, is gateway/site's `resolveSite`.
 */
export function parseConfigText(text: string, env: NodeJS.ProcessEnv = process.env): ParsedConfig {
  const y = parseYaml(text);
  if (y.problems.length) return { problems: y.problems, lineOf: y.lineOf };
  const envProblems: { path: (string | number)[]; message: string }[] = [];
  const raw = interpolateEnv(y.value, env, [], envProblems);
  const res = configSchema.safeParse(raw);
  const problems = [
    ...envProblems.map((p) => ({ path: dotted(p.path), line: y.lineOf(p.path), message: p.message })),
    ...(res.success ? [] : zodProblems(res.error.issues, y.lineOf)),
  ];
  if (problems.length || !res.success) return { problems, lineOf: y.lineOf };
  return { config: deepFreeze(res.data), problems: [], lineOf: y.lineOf };
}

/** Parse and validate config text (the config schema only). Throws ConfigError listing every problem. */
export function parseConfig(text: string, file = '<config>', env: NodeJS.ProcessEnv = process.env): Readonly<GatewayConfig> {
  const r = parseConfigText(text, env);
  if (!r.config) throw new ConfigError(file, r.problems);
  return r.config;
}

export function loadConfig(file: string, env: NodeJS.ProcessEnv = process.env): Readonly<GatewayConfig> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(file, [{ path: '', message: `cannot read the file: ${(err as Error).message}` }]);
  }
  return parseConfig(text, file, env);
}

export function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object' && !Object.isFrozen(o)) {
    Object.freeze(o);
    for (const v of Object.values(o)) deepFreeze(v);
  }
  return o;
}
