import type { DeviceConfig } from '../../gateway/model/site-config.js';
import { CHARGE_POINT_ID } from './connection-schema.js';

/** How a device is bound to a charge point and connector, and how a discovered one is named. */

export function chargePointOf(d: DeviceConfig): string {
  return d.charge_point_id ?? d.id;
}

/** `options.connector` (default 1); undefined when it is not a whole number from 1. */
export function connectorOf(d: DeviceConfig): number | undefined {
  const c = d.options['connector'] ?? 1;
  const n = typeof c === 'string' && /^\d+$/.test(c) ? Number(c) : c;
  return typeof n === 'number' && Number.isInteger(n) && n >= 1 ? n : undefined;
}

const SLUG = /^[a-z0-9][a-z0-9._-]*$/;

/**
 * The device id a discovery rule gives one connector of a charge point: the template with
 * {chargePointId} (lower-cased: device ids are) and {connectorId}; a connector past the first gets
 * "-<n>" when the template does not place it. Undefined when the result is not a device id.
 */
export function discoveredId(template: string, chargePointId: string, connector: number): string | undefined {
  if (!CHARGE_POINT_ID.test(chargePointId)) return undefined;
  let id = template.replaceAll('{chargePointId}', chargePointId.toLowerCase()).replaceAll('{connectorId}', String(connector));
  if (connector > 1 && !template.includes('{connectorId}')) id += `-${connector}`;
  return SLUG.test(id) && id.length <= 64 ? id : undefined;
}
