// Types of format.js for the TypeScript tests; the page itself runs the plain JS.
export type Lang = 'zh' | 'en';
export type Translate = (key: string, params?: Record<string, unknown>) => string;
export function locale(lang: string): string;
export function digitsFor(value: number): number;
export function formatNumber(value: unknown, lang: string, digits?: number): string;
export function scaleUnit(value: number, unit: string, lang?: string): { value: number; unit: string };
export function displayUnit(unit: string | undefined | null, lang?: string): string;
export function kpiUnit(kpi: string | undefined, unit: string | undefined): string | undefined;
export function formatValue(value: unknown, unit: string | undefined, lang: string, t?: Translate): { text: string; unit: string };
export function formatWithUnit(value: unknown, unit: string | undefined, lang: string, t?: Translate): string;
export function formatDuration(seconds: number, lang: string): string;
export function formatAgo(ts: number, now: number, lang: string): string;
export function formatTime(ts: number, lang: string, tz?: string, withDate?: boolean): string;
export function tzOffset(ts: number, tz?: string): number;
export function startOfDay(ts: number, tz?: string): number;
export function qualityClass(quality: string | undefined, reason?: string): string;
export function percentile(values: number[], p: number): number | undefined;
