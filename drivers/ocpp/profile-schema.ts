import { z } from 'zod';
import { profileBase } from '../profiles/schema.js';

/** OCPP 1.6 ChargePointStatus values (section 7.7), in the order the standard lists them. */
export const OCPP16_STATUSES = ['Available', 'Preparing', 'Charging', 'SuspendedEVSE', 'SuspendedEV', 'Finishing', 'Reserved', 'Unavailable', 'Faulted'] as const;
/** OCPP 2.0.1 ConnectorStatusEnumType and ChargingStateEnumType (the state inside a transaction). */
export const OCPP201_STATUSES = ['Available', 'Occupied', 'Reserved', 'Unavailable', 'Faulted'] as const;
export const OCPP201_CHARGING_STATES = ['Charging', 'EVConnected', 'SuspendedEV', 'SuspendedEVSE', 'Idle'] as const;

/**
 * A charger model as data: how its StatusNotification and MeterValues map onto the catalog.
 * One entry per measurand; `units` lists the units the charger may state (OCPP's UnitOfMeasure
 * spellings) and `unit` is the one meant when a sampled value states none.
 */
export const ocppProfileSchema = z.strictObject({
  ...profileBase,
  protocol: z.literal('ocpp'),
  version: z.enum(['ocpp1.6', 'ocpp2.0.1']).default('ocpp1.6'),
  /** 1.6: ChargePointStatus; 2.0.1: ConnectorStatus, refined by `charging_state` inside a transaction. */
  status: z.strictObject({ metric: z.string(), map: z.record(z.string(), z.string()) }),
  /** 2.0.1: TransactionEvent's chargingState onto the same metric. */
  charging_state: z.strictObject({ map: z.record(z.string(), z.string()) }).optional(),
  measurands: z
    .array(
      z.strictObject({
        metric: z.string(),
        /** OCPP Measurand (section 7.31); a sampled value without one is Energy.Active.Import.Register. */
        measurand: z.string(),
        unit: z.string(),
        units: z.array(z.string()).min(1),
        /** Values given per phase only (L1, L2, L3): their sum is the value. A value without phase wins. */
        phases: z.enum(['sum', 'ignore']).default('sum'),
      }),
    )
    .min(1),
  /** Metric that StartTransaction.meterStart and StopTransaction.meterStop (Wh) feed. */
  transaction_meter: z.string().optional(),
});
export type OcppProfile = z.infer<typeof ocppProfileSchema>;
