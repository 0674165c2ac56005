import { addressMatches, parseFrame, request } from './frame.js';

/**
 * DL/T 645-2007 remote control (控制命令, C = 0x1C): trip (拉闸) or allow closing (合闸允许) the
 * meter's load relay. DATA, 16 bytes, each sent +0x33:
 *   PA P0 P1 P2   password level and password (3 bytes, low byte first)
 *   C0 C1 C2 C3   operator code (the meter records who acted; low byte first)
 *   N1            1AH trip, 1BH close allowed, 1CH close now (Q/GDW 1354 meters)
 *   N2            reserved, 00
 *   N3 … N8       valid until: ss mm hh DD MM YY (BCD); all 00 = no limit
 * The meter answers 0x9C with no data, or 0xDC with an error byte (bit 2: wrong password / not
 * authorised). Its relay state is bit 4 of status word 3 (04000503; 0 closed, 1 open).
 */

export const CONTROL_RELAY = 0x1c;
export const RELAY_ACTIONS = { trip: 0x1a, close: 0x1b, close_now: 0x1c } as const;
export type RelayAction = keyof typeof RELAY_ACTIONS;
/** 电表运行状态字3, 2 bytes: bit 4 relay open, bit 6 relay commanded open. */
export const STATUS_WORD_3 = '04000503';
export const RELAY_OPEN_BIT = 1 << 4;

export interface Credentials {
  /** Password level, 02 or 04 in practice (the meter knows which passwords may control). */
  level: number;
  /** 6 digits. */
  password: string;
  /** 8 hex digits, recorded by the meter. */
  operator: string;
}

const lowFirst = (hex: string): Buffer => Buffer.from(hex, 'hex').reverse();

export function relayData(action: RelayAction, c: Credentials): Buffer {
  if (!/^\d{6}$/.test(c.password)) throw new RangeError('a DL/T 645 password is 6 digits');
  if (!/^[0-9A-Fa-f]{8}$/.test(c.operator)) throw new RangeError('a DL/T 645 operator code is 8 hex digits');
  if (!Number.isInteger(c.level) || c.level < 0 || c.level > 9) throw new RangeError('a DL/T 645 password level is 0..9');
  return Buffer.concat([Buffer.from([c.level]), lowFirst(c.password), lowFirst(c.operator), Buffer.from([RELAY_ACTIONS[action], 0]), Buffer.alloc(6)]);
}

export function relayRequest(address: string, action: RelayAction, c: Credentials, wakeUp = 4): Buffer {
  return request(address, CONTROL_RELAY, relayData(action, c), wakeUp);
}

/** What the meter does with a control frame's DATA (offset removed), for the simulator. */
export function parseRelayData(data: Buffer): { action: RelayAction | undefined; level: number; password: string; operator: string } | undefined {
  if (data.length < 16) return undefined;
  const n1 = data[8] as number;
  const action = (Object.keys(RELAY_ACTIONS) as RelayAction[]).find((k) => RELAY_ACTIONS[k] === n1);
  return { action, level: data[0] as number, password: Buffer.from(data.subarray(1, 4)).reverse().toString('hex'), operator: Buffer.from(data.subarray(4, 8)).reverse().toString('hex').toUpperCase() };
}

export type RelayReply = { kind: 'ok' } | { kind: 'refused'; code: number; meaning: string } | { kind: 'mismatch'; why: string };

export function relayReply(frame: Buffer, address: string): RelayReply {
  const p = parseFrame(frame);
  if ((p.control & 0x80) === 0) return { kind: 'mismatch', why: 'a request, not a reply (echo on a two-wire bus?)' };
  if ((p.control & 0x1f) !== CONTROL_RELAY) return { kind: 'mismatch', why: `control 0x${p.control.toString(16)} is not a control reply` };
  if (!addressMatches(address, p.address)) return { kind: 'mismatch', why: `reply from meter ${p.address}, not ${address}` };
  if ((p.control & 0x40) === 0) return { kind: 'ok' };
  const code = p.data[0] ?? 0;
  return { kind: 'refused', code, meaning: code & 0x04 ? 'wrong password or not authorised' : `error 0x${code.toString(16).padStart(2, '0')}` };
}
