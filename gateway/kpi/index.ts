/** The KPI module: scene KPIs over windows of stored data, targets, alerts, the API routes and the report. */
export { createKpiEngine, KpiEngine, type KpiEngineDeps, type KpiRow } from './engine.js';
export { runReport, ReportError, REPORT_USAGE, type ReportArgs, type ReportResult } from './report.js';
export type { AlertView } from './alerts.js';
export type { KpiResult } from './compute.js';
