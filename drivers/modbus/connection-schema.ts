import { z } from 'zod';
import { duration, port, slug, strict } from '../../gateway/model/zod-helpers.js';

/**
 * A Modbus connection (`connections[]` with protocol modbus-tcp, modbus-rtu-over-tcp or
 * modbus-rtu): one physical link, one request in flight. Owned by this driver; the gateway's one
 * validation (gateway/site) applies it to every connection of these protocols.
 */
const common = {
  id: slug,
  timeout: duration('1s'),
  /** Pause between the end of one exchange and the next request on this link. */
  gap: duration('20ms'),
  retries: z.number().int().min(0).max(10).default(1),
  reconnect_min: duration('500ms'),
  reconnect_max: duration('30s'),
  /** Quarantine of a device that stops answering: first delay and cap. */
  quarantine_min: duration('2s'),
  quarantine_max: duration('5m'),
};

export const modbusConnectionSchema = z.discriminatedUnion('protocol', [
  strict({ ...common, protocol: z.literal('modbus-tcp'), host: z.string().min(1), port: port.default(502) }),
  strict({ ...common, protocol: z.literal('modbus-rtu-over-tcp'), host: z.string().min(1), port: port.default(502) }),
  strict({
    ...common,
    protocol: z.literal('modbus-rtu'),
    path: z.string().min(1),
    baud: z.number().int().positive().default(9600),
    parity: z.enum(['none', 'even', 'odd']).default('none'),
    data_bits: z.union([z.literal(7), z.literal(8)]).default(8),
    stop_bits: z.union([z.literal(1), z.literal(2)]).default(1),
  }),
]);

export type ModbusConnection = z.infer<typeof modbusConnectionSchema>;
