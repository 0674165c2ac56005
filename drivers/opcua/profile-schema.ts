import { z } from 'zod';
import { duration } from '../../gateway/model/zod-helpers.js';
import { profileBase } from '../profiles/schema.js';
import { opcuaCommandSchema } from './command-schema.js';

/**
 * The OPC UA part of a device profile (YAML in drivers/profiles/, `protocol: opcua`).
 *
 * A profile names the variables of a device model and the catalog metric each one gives. A node is
 * found either by its node id or by a browse path below the device's root folder (browse paths
 * survive a server that renumbers its string or numeric ids). `{name}` in a root, path or node id is
 * replaced by the device option `name` (and `{device}` by the device id), so one profile serves every
 * unit of a model. Unprefixed browse names and `nsu=` node ids live in `namespace`, which the driver
 * turns into the server's namespace index at each connect (indexes may differ between servers).
 */

const scalar = z.union([z.string(), z.number(), z.boolean()]);

/** `N:Name` pins a browse name to namespace index N; a bare `Name` is in the profile's namespace. */
const browseName = /^(\d+:)?[^/]+$/;

export const opcuaNode = z
  .strictObject({
    metric: z.string(),
    /** Only devices of this class read the node (default: every class of the profile). */
    class: z.string().optional(),
    /** Node id: `ns=2;s=Pump.Power`, `nsu=urn:…;i=1001`, `i=2258`; placeholders allowed. */
    node: z.string().optional(),
    /** Browse path below the device's `root`: `Power` or `Meter/Power`. */
    path: z.string().optional(),
    /** Native unit when the server gives no EngineeringUnits (the server's, when recognised, wins). */
    unit: z.string().optional(),
    /** value = raw × scale + offset (before unit conversion). */
    scale: z.number().optional(),
    offset: z.number().optional(),
    /** Raw value (as text) → metric value (enum names, booleans). An unmapped value is bad quality. */
    map: z.record(z.string(), scalar).optional(),
    /** Per-node overrides of the profile defaults. */
    sampling_interval: duration().optional(),
    queue_size: z.number().int().min(1).max(100_000).optional(),
    trigger: z.enum(['status_value', 'status_value_timestamp']).optional(),
  })
  .refine((n) => (n.node === undefined) !== (n.path === undefined), { message: 'a node needs exactly one of `node` or `path`' })
  .refine((n) => n.path === undefined || n.path.split('/').every((s) => browseName.test(s)), { message: 'a path is browse names separated by "/"' });

export const opcuaDefaults = z
  .strictObject({
    /**
     * subscribe: a subscription with one monitored item per node (the normal case);
     * poll: Read every `poll` (servers that cannot subscribe, or a device configured with `poll`).
     */
    mode: z.enum(['subscribe', 'poll']).default('subscribe'),
    /** How often the server samples each node; 0 asks for every change (exception-based). */
    sampling_interval: duration('1s'),
    /** How often the server sends what changed. */
    publishing_interval: duration('1s'),
    /** Changes kept per node between two publishes (>1 keeps every change of a fast node). */
    queue_size: z.number().int().min(1).max(100_000).default(10),
    /**
     * What counts as a change (OPC UA DataChangeTrigger): a new value or status, or also a new
     * source timestamp — for a PLC that re-stamps unchanged values, so an idle counter is still
     * seen to be alive (and KPI coverage stays whole).
     */
    trigger: z.enum(['status_value', 'status_value_timestamp']).default('status_value'),
    /** Read period in poll mode (and of a device's `poll`). */
    poll: duration('10s'),
  })
  .default({ mode: 'subscribe', sampling_interval: 1000, publishing_interval: 1000, queue_size: 10, trigger: 'status_value', poll: 10_000 });

const opcuaProfileBody = {
  /** Namespace URI of unprefixed browse names and of `nsu=` node ids. */
  namespace: z.string().optional(),
  /** Browse path from the Objects folder to the device's folder (placeholders allowed). */
  root: z.string().optional(),
  defaults: opcuaDefaults,
  nodes: z.array(opcuaNode).min(1),
  /** What a device can be told (drivers/core/commands.ts): a variable node written, then read back. */
  commands: z.array(opcuaCommandSchema).default([]),
};

export const opcuaProfileSchema = z
  .strictObject({
    ...profileBase,
    protocol: z.literal('opcua'),
    ...opcuaProfileBody,
  })
  .refine((p) => p.nodes.every((n) => n.path === undefined) || p.root !== undefined, { message: 'nodes with a `path` need a profile `root`' });

export type OpcuaProfile = z.infer<typeof opcuaProfileSchema>;
