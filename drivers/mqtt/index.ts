import type { DriverFactory } from '../core/driver.js';
import { MqttDriver, MqttDriverError, type MqttConnection } from './driver.js';
import { mqttProfileSchema } from './profile-schema.js';

export { MqttDriver, MqttDriverError } from './driver.js';
export { mqttProfileSchema, type MqttProfile } from './profile-schema.js';
export { CODECS, getCodec } from './codecs/index.js';

/** MQTT (plain JSON, ChirpStack v4, The Things Stack v3) over an external broker or the embedded one. */
export const mqttDriverFactory: DriverFactory = {
  protocols: ['mqtt'],
  profileProtocol: 'mqtt',
  profileSchema: mqttProfileSchema,
  create({ connection, devices, discover, config, profiles, ctx }) {
    if (connection.protocol !== 'mqtt') throw new MqttDriverError('MQTT_CONFIG_INVALID', `connection ${connection.id} is not mqtt`);
    return new MqttDriver({ connection: connection as MqttConnection, devices, discover, config, profiles, ctx });
  },
};
