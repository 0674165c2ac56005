/** LoRa Alliance TS013 payload codec shape: decodeUplink({bytes, fPort}) → {data, warnings, errors}. */
export interface UplinkInput {
  bytes: ArrayLike<number>;
  fPort: number;
  recvTime?: Date;
}

export interface UplinkOutput {
  data?: Record<string, unknown>;
  warnings?: string[];
  errors?: string[];
}

export interface Codec {
  readonly name: string;
  decodeUplink(input: UplinkInput): UplinkOutput;
}
