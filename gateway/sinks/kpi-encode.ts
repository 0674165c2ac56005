import type { AlertPoint, KpiPoint, NorthboundRecord, SiteIdentity } from '../kpi/outbox.js';
import { EncodeError, escapeKey, fieldValue, quoteString, seriesKey } from './line-protocol.js';
import type { MqttMessage } from './mqtt.js';

/**
 * How the KPI records of gateway/kpi/outbox.ts look on the wire (docs/district.md).
 *
 * Line protocol (InfluxDB 1/2, VictoriaMetrics):
 * - `kpi,kpi=…,scope=…,site=…,window=… value,coverage,closed,window_start,window_end,status_code[,target_min][,target_max],status[,reason]`
 * - `kpi_alert,kpi=…,scope=…,site=…,window=… active,value,coverage,window_start,window_end,id,status,bound,message`
 * - `site,district=…,name=…,site=… info=1,residents,households,latitude,longitude`
 * Numbers are floats (VictoriaMetrics keeps only numeric fields: `kpi_value`, `kpi_status_code`…),
 * strings are few (VictoriaMetrics stores each as a series of zeros): the unit follows from the
 * KPI's name (gateway/kpi/names.ts) and is not sent. `status_code`: 1 met, 0 missed, −1 unknown. The district and
 * name are tags of `site` (`site_info` in VictoriaMetrics) so a PromQL join (`group_left(district)`) or a Flux filter finds them.
 *
 * MQTT (under the sink's `topic_prefix`, retained: a district subscriber that connects late
 * still gets every community's latest value, final window and alert state):
 * - `{prefix}/kpi/{kpi}/{window}/{scope}/running` and `…/closed`
 * - `{prefix}/kpi/{kpi}/{window}/{scope}/alert`
 * - `{prefix}/site`
 */

export const STATUS_CODE = { met: 1, missed: 0, unknown: -1 } as const;

const num = (name: string, v: number | null | undefined): string[] => {
  if (v === null || v === undefined) return [];
  const f = fieldValue(v);
  return f === undefined ? [] : [`${escapeKey(name)}=${f}`];
};
const str = (name: string, v: string | undefined): string[] => (v === undefined ? [] : [`${escapeKey(name)}=${quoteString(v)}`]);

function line(key: string, fields: string[], ts: number): string {
  if (!Number.isFinite(ts)) throw new EncodeError(`timestamp ${ts} is not a number`);
  return `${key} ${fields.join(',')} ${Math.trunc(ts)}`;
}

const kpiKey = (r: KpiPoint | AlertPoint, measurement: string) => seriesKey(measurement, { site: r.site, kpi: r.kpi, window: r.window, scope: r.scope });
/** The fields a KPI point and an alert share. */
const common = (r: KpiPoint | AlertPoint) => [...num('value', r.value), ...num('coverage', r.coverage)];
const span = (r: KpiPoint | AlertPoint) => [...num('window_start', r.start), ...num('window_end', r.end)];

export function kpiLine(r: NorthboundRecord): string {
  switch (r.kind) {
    case 'kpi':
      return line(
        kpiKey(r, 'kpi'),
        [
          ...common(r),
          `closed=${r.closed ? 1 : 0}`,
          ...span(r),
          `status_code=${STATUS_CODE[r.status]}`,
          ...num('target_min', r.target_min),
          ...num('target_max', r.target_max),
          ...str('status', r.status),
          ...str('reason', r.reason),
        ],
        r.ts,
      );
    case 'alert':
      return line(
        kpiKey(r, 'kpi_alert'),
        [
          `active=${r.active ? 1 : 0}`,
          ...common(r),
          ...span(r),
          ...num('id', r.id),
          ...str('status', r.status),
          ...str('bound', r.bound),
          ...str('message', r.message),
        ],
        r.ts,
      );
    case 'site':
      return line(siteKey(r), ['info=1', ...num('residents', r.residents), ...num('households', r.households), ...num('latitude', r.latitude), ...num('longitude', r.longitude)], r.ts);
  }
}

function siteKey(r: SiteIdentity): string {
  const tags: Record<string, string> = { site: r.site };
  if (r.district) tags['district'] = r.district;
  if (r.name) tags['name'] = r.name;
  return seriesKey('site', tags);
}

/** A scope as one topic level: `/`, `+` and `#` cannot stand inside one. */
const level = (s: string) => s.replace(/[/+#]/g, '_');

export function kpiMessage(prefix: string, r: NorthboundRecord): MqttMessage {
  switch (r.kind) {
    case 'kpi': {
      const { kind: _k, site: _s, ...body } = r;
      return { topic: `${prefix}/kpi/${level(r.kpi)}/${level(r.window)}/${level(r.scope)}/${r.closed ? 'closed' : 'running'}`, payload: JSON.stringify(body), retain: true };
    }
    case 'alert': {
      const { kind: _k, site: _s, ...body } = r;
      return { topic: `${prefix}/kpi/${level(r.kpi)}/${level(r.window)}/${level(r.scope)}/alert`, payload: JSON.stringify(body), retain: true };
    }
    case 'site': {
      const { kind: _k, ...body } = r;
      return { topic: `${prefix}/site`, payload: JSON.stringify(body), retain: true };
    }
  }
}
