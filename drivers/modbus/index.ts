import type { DriverFactory } from '../core/driver.js';
import { modbusGolden } from './golden.js';
import { modbusFromRecording, recordModbus } from './record.js';
import type { Loaded } from '../profiles/schema.js';
import { checkModbus, checkModbusProfile, modbusPointFacts } from './checks.js';
import { modbusConnectionSchema, type ModbusConnection } from './connection-schema.js';
import { ModbusDriver } from './driver.js';
import { modbusProfileSchema, type ModbusProfile } from './profile-schema.js';

export { ModbusDriver, ModbusDriverError } from './driver.js';
export { modbusProfileSchema, type ModbusProfile } from './profile-schema.js';
export { modbusConnectionSchema, type ModbusConnection } from './connection-schema.js';
export { CODECS, decodeWords, encodeWords, WORD_ORDERS, POINT_TYPES } from './codecs.js';

/** Modbus TCP, Modbus RTU (serial) and Modbus RTU over TCP (RS-485 gateways). */
export const modbusDriverFactory: DriverFactory<ModbusConnection, Loaded<ModbusProfile>> = {
  protocols: ['modbus-tcp', 'modbus-rtu', 'modbus-rtu-over-tcp'],
  connectionSchema: modbusConnectionSchema,
  profileProtocol: 'modbus',
  profileSchema: modbusProfileSchema,
  golden: modbusGolden,
  record: recordModbus,
  fromRecording: modbusFromRecording,
  checkProfile: checkModbusProfile,
  check: checkModbus,
  pointFacts: modbusPointFacts,
  create({ connection, devices, ctx }) {
    return new ModbusDriver({ connection, devices, ctx });
  },
};
