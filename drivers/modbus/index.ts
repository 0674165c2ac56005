import type { DriverFactory } from '../core/driver.js';
import { ModbusDriver, ModbusDriverError } from './driver.js';
import { modbusProfileSchema } from './profile-schema.js';
import type { ModbusConnection } from './transport.js';

export { ModbusDriver, ModbusDriverError } from './driver.js';
export { modbusProfileSchema, type ModbusProfile } from './profile-schema.js';
export { CODECS, decodeWords, encodeWords, WORD_ORDERS, POINT_TYPES } from './codecs.js';

/** Modbus TCP, Modbus RTU (serial) and Modbus RTU over TCP (RS-485 gateways). */
export const modbusDriverFactory: DriverFactory = {
  protocols: ['modbus-tcp', 'modbus-rtu', 'modbus-rtu-over-tcp'],
  profileProtocol: 'modbus',
  profileSchema: modbusProfileSchema,
  create({ connection, devices, config, ctx }) {
    if (!connection.protocol.startsWith('modbus')) throw new ModbusDriverError('MODBUS_CONFIG_INVALID', `connection ${connection.id} is not modbus`);
    return new ModbusDriver({ connection: connection as ModbusConnection, devices, config, ctx });
  },
};
