/**
 * The one validation (ARCHITECTURE.md, "Resolved site"): config + profiles + registered drivers →
 * a resolved site or a list of located problems. Everything past this point reads the site.
 */
export { resolveSite, type SiteInput, type SiteResult } from './resolve.js';
export { loadSite, siteOf, siteOrThrow, profileDirs, type SiteOptions } from './load.js';
export { seriesFacts, wrapOf } from './facts.js';
export { SiteFacts } from './series.js';
export type { ResolvedSite, ResolvedDevice, ResolvedConnection, ResolvedRule, SeriesFacts } from './types.js';
