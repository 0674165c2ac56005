import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DataValue, OPCUAServer, UAVariable } from 'node-opcua';
import type { Logger } from 'pino';
import { routeNodeOpcuaLogs } from '../../drivers/opcua/logs.js';
import { UNECE_URI, euFor } from '../../drivers/opcua/units.js';
import type { StationDevice, StationPoint } from './station.js';

/**
 * A real node-opcua server exposing the station: Objects/EnergyStation/<device folder>/<variable>,
 * analog values as AnalogItems with EngineeringUnits (UNECE codes) and an EURange, enumerations as
 * UInt16. Values are pushed (setValueFromSource) with the simulated source timestamp, so clients
 * that monitor with sampling interval 0 receive every change, exception-based, as from a PLC.
 */

export const STATION_NAMESPACE = 'urn:fcgw:sim:energy-station';

/** Status codes the simulator gives a point; `value` frozen while a device is out of contact. */
export interface PointStatus {
  code: 'Good' | 'BadSensorFailure' | 'BadNoCommunication' | 'UncertainLastUsableValue' | 'UncertainSensorNotAccurate';
  /** Keep showing this value (last usable) instead of the live one. */
  frozen?: number;
}

export interface StationServerOptions {
  host: string;
  port: number;
  /** PKI folder of the server's own certificate (created on first use, then reused). */
  pkiDir?: string;
  secureOnly: boolean;
  anonymous: boolean;
  users: Record<string, string>;
  /** Where node-opcua's own console warnings go (process-wide, as in the driver); else the console. */
  log?: Logger;
}

export const DEFAULT_PKI = join(tmpdir(), 'fcgw-opcua-station-pki');

interface Bound {
  device: StationDevice;
  vars: Map<string, UAVariable>;
}

export class StationServer {
  private server: OPCUAServer | undefined;
  private bound: Bound[] = [];
  private mod: typeof import('node-opcua') | undefined;

  constructor(
    private readonly o: StationServerOptions,
    private readonly devices: readonly StationDevice[],
  ) {}

  /** The server's certificate file (PEM), for clients that must trust it. */
  get certificateFile(): string {
    return join(this.o.pkiDir ?? DEFAULT_PKI, 'own/certs/certificate.pem');
  }

  async start(): Promise<void> {
    if (this.server) return;
    const ua = (this.mod ??= await import('node-opcua'));
    if (this.o.log) routeNodeOpcuaLogs(ua, this.o.log);
    const certificateManager = new ua.OPCUACertificateManager({ rootFolder: this.o.pkiDir ?? DEFAULT_PKI, automaticallyAcceptUnknownCertificate: true });
    await certificateManager.initialize();
    const modes = [ua.MessageSecurityMode.Sign, ua.MessageSecurityMode.SignAndEncrypt];
    const users = this.o.users;
    const server = new ua.OPCUAServer({
      port: this.o.port,
      // `hostname` only names the advertised endpoint; `host` is where the socket binds (node-opcua
      // listens on every interface without it, and this server offers security None).
      host: this.o.host,
      hostname: this.o.host,
      serverCertificateManager: certificateManager,
      // The compact form of the standard nodeset loads in half the time of the XML.
      nodeset_filename: [ua.nodesets.standard.replace(/\.xml$/, '.ndjson.gz')],
      securityModes: this.o.secureOnly ? modes : [ua.MessageSecurityMode.None, ...modes],
      // The policies a current PLC or SCADA offers (Basic256Sha256 and the two AES ones).
      securityPolicies: [
        ...(this.o.secureOnly ? [] : [ua.SecurityPolicy.None]),
        ua.SecurityPolicy.Basic256Sha256,
        ua.SecurityPolicy.Aes128_Sha256_RsaOaep,
        ua.SecurityPolicy.Aes256_Sha256_RsaPss,
      ],
      allowAnonymous: this.o.anonymous,
      userManager: { isValidUser: (name: string, password: string) => users[name] !== undefined && users[name] === password },
      // Every change is reported to an exception-based item (sampling interval 0), none coalesced.
      serverCapabilities: { minSupportedSampleRate: 0 },
      serverInfo: { applicationUri: 'urn:fcgw:sim:energy-station:server', productUri: 'urn:fcgw:sim', applicationName: { text: 'fcgw energy station simulator' } },
      buildInfo: { productName: 'fcgw energy station simulator', manufacturerName: 'fcgw' },
    });
    await server.initialize();
    this.build(server);
    await server.start();
    this.server = server;
  }

  async stop(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    this.bound = [];
    if (s) await s.shutdown(0);
  }

  /** A server out of subscriptions (BadTooManySubscriptions), as small PLCs are: clients must read. */
  refuseSubscriptions(refuse: boolean): void {
    const caps = this.server?.engine.serverCapabilities;
    if (caps) caps.maxSubscriptionsPerSession = refuse ? 0 : 10;
  }

  /** Push every point's current value (or frozen value and status) stamped `ts`. */
  publish(ts: number, status: (device: string, p: StationPoint) => PointStatus): void {
    const ua = this.mod;
    if (!ua || !this.server) return;
    const at = new Date(ts);
    for (const b of this.bound) {
      for (const p of b.device.points()) {
        const v = b.vars.get(p.name);
        if (!v) continue;
        const st = status(b.device.id, p);
        const value = st.frozen ?? p.value;
        const dataType = p.type === 'Double' ? ua.DataType.Double : ua.DataType.UInt16;
        v.setValueFromSource(new ua.Variant({ dataType, value: p.type === 'UInt16' ? Math.round(value) : value }), ua.StatusCodes[st.code], at);
      }
    }
  }

  /**
   * A client's write of a writable point goes to the model first: a value the device takes is
   * stored as written; one it does not take (out of range, a broken input) is answered Good, as a
   * PLC that accepts the write into its image, while the value stays — only a read-back shows it.
   */
  private writable(v: UAVariable, device: StationDevice, name: string): void {
    type WriteValue = (context: unknown, dv: DataValue, ...rest: unknown[]) => unknown;
    const original = (v.writeValue as unknown as WriteValue).bind(v);
    (v as unknown as { writeValue: WriteValue }).writeValue = (context, dv, ...rest) => {
      const point = device.points().find((x) => x.name === name);
      const raw = Number(dv.value.value);
      if (!point?.write?.(raw)) dv.value = v.readValue().value;
      return original(context, dv, ...rest);
    };
  }

  private build(server: OPCUAServer): void {
    const space = server.engine.addressSpace;
    if (!space) throw new Error('OPC UA server has no address space');
    const ns = space.registerNamespace(STATION_NAMESPACE);
    const station = ns.addFolder(space.rootFolder.objects, { browseName: 'EnergyStation', nodeId: 's=EnergyStation' });
    for (const device of this.devices) {
      const folder = ns.addFolder(station, { browseName: device.folder, nodeId: `s=EnergyStation.${device.folder}` });
      const vars = new Map<string, UAVariable>();
      for (const p of device.points()) {
        const nodeId = `s=EnergyStation.${device.folder}.${p.name}`;
        const eu = p.unit ? euFor(p.unit) : undefined;
        const v = eu
          ? ns.addAnalogDataItem({
              componentOf: folder,
              browseName: p.name,
              nodeId,
              dataType: 'Double',
              minimumSamplingInterval: 0,
              engineeringUnitsRange: { low: -1e12, high: 1e12 },
              engineeringUnits: { namespaceUri: UNECE_URI, unitId: eu.unitId, displayName: { text: p.unit }, description: { text: eu.code } },
            })
          : ns.addVariable({
              componentOf: folder,
              browseName: p.name,
              nodeId,
              dataType: p.type,
              minimumSamplingInterval: 0,
              ...(p.write ? { accessLevel: 'CurrentRead | CurrentWrite', userAccessLevel: 'CurrentRead | CurrentWrite' } : {}),
            });
        if (p.write) this.writable(v as UAVariable, device, p.name);
        vars.set(p.name, v as UAVariable);
      }
      this.bound.push({ device, vars });
    }
  }
}
