import type { DriverFactory } from '../core/driver.js';
import { mqttGolden } from './golden.js';
import { mqttFromRecording, recordMqtt } from './record.js';
import type { Loaded } from '../profiles/schema.js';
import { checkMqtt, checkMqttProfile } from './checks.js';
import { mqttConnectionSchema, type MqttConnection } from './connection-schema.js';
import { MqttDriver } from './driver.js';
import { mqttProfileSchema, type MqttProfile } from './profile-schema.js';

export { MqttDriver, MqttDriverError } from './driver.js';
export { mqttProfileSchema, type MqttProfile } from './profile-schema.js';
export { mqttConnectionSchema, mqttUrlProblem, type MqttConnection } from './connection-schema.js';
export { CODECS, getCodec } from './codecs/index.js';

/** MQTT (plain JSON, ChirpStack v4, The Things Stack v3) over an external broker or the embedded one. */
export const mqttDriverFactory: DriverFactory<MqttConnection, Loaded<MqttProfile>> = {
  protocols: ['mqtt'],
  connectionSchema: mqttConnectionSchema,
  profileProtocol: 'mqtt',
  profileSchema: mqttProfileSchema,
  golden: mqttGolden,
  record: recordMqtt,
  fromRecording: mqttFromRecording,
  discovers: true,
  checkProfile: checkMqttProfile,
  check: checkMqtt,
  pointFacts: (p) => new Map(p.readings.map((r) => [r.metric, r.unit !== undefined ? { unit: r.unit } : {}])),
  create({ connection, devices, discover, profiles, ctx }) {
    return new MqttDriver({ connection, devices, discover, profiles, ctx });
  },
};
