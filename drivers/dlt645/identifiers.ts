import type { BcdFormat } from '../core/bcd.js';

/**
 * Value formats of the common DL/T 645 data identifiers (DI3 DI2 DI1 DI0 for 2007, DI1 DI0 for
 * 1997), from the standards' data-identifier tables (DL/T 645-2007 附录 A, DL/T 645-1997 表 A).
 * A profile names the identifier and the metric; the format comes from here unless the profile
 * gives its own (a vendor's private identifier).
 */
export interface DiFormat extends BcdFormat {
  bytes: number;
  unit: string;
  what: string;
}

const energy = (what: string): DiFormat => ({ bytes: 4, decimals: 2, unit: 'kWh', what });

export const IDENTIFIERS_2007: Readonly<Record<string, DiFormat>> = {
  '00000000': { ...energy('combined active energy, total'), signed: true },
  '00010000': energy('forward (import) active energy, total'),
  '00010100': energy('forward active energy, tariff 1 (sharp 尖)'),
  '00010200': energy('forward active energy, tariff 2 (peak 峰)'),
  '00010300': energy('forward active energy, tariff 3 (flat 平)'),
  '00010400': energy('forward active energy, tariff 4 (valley 谷)'),
  '00020000': energy('reverse (export) active energy, total'),
  '02010100': { bytes: 2, decimals: 1, unit: 'V', what: 'phase A voltage' },
  '02010200': { bytes: 2, decimals: 1, unit: 'V', what: 'phase B voltage' },
  '02010300': { bytes: 2, decimals: 1, unit: 'V', what: 'phase C voltage' },
  '02020100': { bytes: 3, decimals: 3, signed: true, unit: 'A', what: 'phase A current' },
  '02020200': { bytes: 3, decimals: 3, signed: true, unit: 'A', what: 'phase B current' },
  '02020300': { bytes: 3, decimals: 3, signed: true, unit: 'A', what: 'phase C current' },
  '02030000': { bytes: 3, decimals: 4, signed: true, unit: 'kW', what: 'total active power (negative: reverse flow)' },
  '02800002': { bytes: 2, decimals: 2, unit: 'Hz', what: 'grid frequency' },
};

export const IDENTIFIERS_1997: Readonly<Record<string, DiFormat>> = {
  '9010': energy('forward (import) active energy, total'),
  '9011': energy('forward active energy, tariff 1'),
  '9012': energy('forward active energy, tariff 2'),
  '9013': energy('forward active energy, tariff 3'),
  '9014': energy('forward active energy, tariff 4'),
  '9020': energy('reverse (export) active energy, total'),
  'B611': { bytes: 2, decimals: 0, unit: 'V', what: 'phase A voltage' },
  'B612': { bytes: 2, decimals: 0, unit: 'V', what: 'phase B voltage' },
  'B613': { bytes: 2, decimals: 0, unit: 'V', what: 'phase C voltage' },
  'B621': { bytes: 2, decimals: 2, unit: 'A', what: 'phase A current' },
  'B622': { bytes: 2, decimals: 2, unit: 'A', what: 'phase B current' },
  'B623': { bytes: 2, decimals: 2, unit: 'A', what: 'phase C current' },
  'B630': { bytes: 3, decimals: 4, unit: 'kW', what: 'total active power (1997 defines no sign bit)' },
};
