import { existsSync } from 'node:fs';
import type { DriverCheckInput, DriverProblem, PointFacts } from '../core/driver.js';
import { classProblems, mappingProblems } from '../core/profile-checks.js';
import type { Loaded } from '../profiles/schema.js';
import { CHARGE_POINT_ID, type OcppConnection } from './connection-schema.js';
import { OCPP16_STATUSES, OCPP201_CHARGING_STATES, OCPP201_STATUSES, type OcppProfile } from './profile-schema.js';
import { chargePointOf, connectorOf } from './devices.js';

/** What the OCPP driver contributes to the one validation (gateway/site). */

export function checkOcppProfile(p: Loaded<OcppProfile>): DriverProblem[] {
  const out = classProblems(p.classes);
  out.push(...mappingProblems(p.classes, { metric: p.status.metric, map: p.status.map }, ['status']));
  const statuses: readonly string[] = p.version === 'ocpp1.6' ? OCPP16_STATUSES : OCPP201_STATUSES;
  for (const raw of Object.keys(p.status.map)) {
    if (!statuses.includes(raw)) out.push({ path: ['status', 'map', raw], message: `"${raw}" is not an ${p.version} status (${statuses.join(', ')})` });
  }
  if (p.charging_state && p.version !== 'ocpp2.0.1') out.push({ path: ['charging_state'], message: 'charging_state is OCPP 2.0.1 (TransactionEvent); 1.6 reports it in the status' });
  if (p.charging_state) {
    out.push(...mappingProblems(p.classes, { metric: p.status.metric, map: p.charging_state.map }, ['charging_state']));
    for (const raw of Object.keys(p.charging_state.map)) {
      if (!(OCPP201_CHARGING_STATES as readonly string[]).includes(raw)) out.push({ path: ['charging_state', 'map', raw], message: `"${raw}" is not an OCPP 2.0.1 charging state (${OCPP201_CHARGING_STATES.join(', ')})` });
    }
  }
  const seen = new Map<string, number>();
  p.measurands.forEach((m, i) => {
    for (const u of new Set([m.unit, ...m.units])) out.push(...mappingProblems(p.classes, { metric: m.metric, unit: u }, ['measurands', i]));
    if (!m.units.includes(m.unit)) out.push({ path: ['measurands', i, 'unit'], message: `the default unit ${m.unit} is not among units (${m.units.join(', ')})` });
    const other = seen.get(m.measurand);
    if (other !== undefined) out.push({ path: ['measurands', i, 'measurand'], message: `${m.measurand} is also mapped by measurands[${other}]` });
    else seen.set(m.measurand, i);
  });
  if (p.transaction_meter !== undefined) out.push(...mappingProblems(p.classes, { metric: p.transaction_meter, unit: 'Wh' }, ['transaction_meter']));
  return out;
}

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

export function checkOcpp(input: DriverCheckInput<OcppConnection, Loaded<OcppProfile>>): DriverProblem[] {
  const out: DriverProblem[] = [];
  const listeners = new Map<string, number>();
  for (const { index, connection: c } of input.connections) {
    const at = (...p: (string | number)[]) => ['connections', index, ...p];
    if (c.port !== 0) {
      const key = `${c.host}:${c.port}`;
      const other = listeners.get(key) ?? listeners.get(`0.0.0.0:${c.port}`);
      if (other !== undefined) out.push({ path: at('port'), message: `connections[${other}] already listens on port ${c.port}` });
      listeners.set(key, index);
    }
    if (c.security_profile === 0 && !LOOPBACK.has(c.host))
      out.push({ path: at('security_profile'), message: `security profile 0 lets any charge point in without a password: only on a loopback host (host is ${c.host}); use 1 (HTTP Basic) or 2 (TLS)` });
    if (c.security_profile === 2 && !c.tls) out.push({ path: at('tls'), message: 'security profile 2 is TLS: give tls.cert and tls.key' });
    if (c.security_profile !== 2 && c.tls) out.push({ path: at('tls'), message: `tls is given but security_profile is ${c.security_profile}: set security_profile: 2` });
    if (c.tls) {
      for (const k of ['cert', 'key', 'ca'] as const) {
        const f = c.tls[k];
        if (f !== undefined && !existsSync(f)) out.push({ path: at('tls', k), message: `file "${f}" does not exist` });
      }
    }
    if (c.upstream_ca !== undefined && !existsSync(c.upstream_ca)) out.push({ path: at('upstream_ca'), message: `file "${c.upstream_ca}" does not exist` });
    if (c.upstream_ca !== undefined && c.upstream === undefined) out.push({ path: at('upstream_ca'), message: 'upstream_ca without upstream' });
    if (c.upstream?.startsWith('ws://') && c.security_profile > 0 && !LOOPBACK.has(new URL(c.upstream).hostname))
      out.push({ path: at('upstream'), message: 'the chargers\' passwords would cross the network in clear text: use wss:// for the upstream' });
    for (const [cp, pw] of Object.entries(c.passwords)) {
      if (!CHARGE_POINT_ID.test(cp)) out.push({ path: at('passwords', cp), message: `"${cp}" is not a charge point id (letters, digits, ".", "_", "~", ":", "-", at most 48)` });
      if (pw.length < 16 || pw.length > 40) out.push({ path: at('passwords', cp), message: 'OCPP security profiles call for a password of 16 to 40 characters' });
    }
    if (c.password !== undefined && (c.password.length < 16 || c.password.length > 40)) out.push({ path: at('password'), message: 'OCPP security profiles call for a password of 16 to 40 characters' });
    if (c.security_profile > 0 && c.password === undefined && input.discover.some((r) => r.connection.id === c.id))
      out.push({ path: at('password'), message: 'a discovery rule admits charge points here: give them a password (security profile 1 and 2 need one)' });
  }
  const bound = new Map<string, number>();
  for (const d of input.devices) {
    const cp = chargePointOf(d.config);
    const connector = connectorOf(d.config);
    if (!CHARGE_POINT_ID.test(cp)) out.push({ path: ['devices', d.index, 'charge_point_id'], message: `"${cp}" is not a charge point id (letters, digits, ".", "_", "~", ":", "-", at most 48)` });
    if (connector === undefined) out.push({ path: ['devices', d.index, 'options', 'connector'], message: 'a connector is a whole number from 1' });
    if (!(d.connection.versions as readonly string[]).includes(d.profile.version)) out.push({ path: ['devices', d.index, 'profile'], message: `profile ${d.profile.id} speaks ${d.profile.version}, which connection ${d.connection.id} does not offer (versions: ${d.connection.versions.join(', ')})` });
    const key = `${d.connection.id}/${cp}/${String(connector)}`;
    const other = bound.get(key);
    if (other !== undefined) out.push({ path: ['devices', d.index, 'charge_point_id'], message: `devices[${other}] is already charge point ${cp} connector ${String(connector)}` });
    bound.set(key, d.index);
    if (d.connection.security_profile > 0 && d.connection.passwords[cp] === undefined && d.connection.password === undefined)
      out.push({ path: ['devices', d.index, 'charge_point_id'], message: `charge point ${cp} has no password: add passwords.${cp} to connection ${d.connection.id}` });
  }
  for (const r of input.discover) {
    if (!(r.connection.versions as readonly string[]).includes(r.profile.version)) out.push({ path: ['discover', r.index, 'profile'], message: `profile ${r.profile.id} speaks ${r.profile.version}, which connection ${r.connection.id} does not offer (versions: ${r.connection.versions.join(', ')})` });
    if (!r.rule.id.includes('{chargePointId}')) out.push({ path: ['discover', r.index, 'id'], message: 'an OCPP discovery id names the charge point, e.g. "ev-{chargePointId}"' });
  }
  return out;
}

export function ocppPointFacts(p: Loaded<OcppProfile>): ReadonlyMap<string, PointFacts> {
  const out = new Map<string, PointFacts>();
  for (const m of p.measurands) out.set(m.metric, { unit: m.unit });
  if (p.transaction_meter !== undefined && !out.has(p.transaction_meter)) out.set(p.transaction_meter, { unit: 'Wh' });
  return out;
}
