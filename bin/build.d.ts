/** The repository root bin/build.js builds from. */
export const ROOT: string;
/** A hash of every source file's path, size and mtime, and of bin/build.js itself. */
export function sourceHash(root?: string, files?: string[]): string;
/** The directory of an up-to-date compiled build of `root`'s sources, building it when missing. */
export function ensureBuilt(root?: string): Promise<string>;
/** The bundle `fcgw` starts from, relative to a build's directory (its CLI and what it imports). */
export const BUNDLE_ENTRY: string;
/** Runs a build's bundle (with V8's code cache): its exports, and whether a cache was used. */
export function loadBundle(dist: string, options?: { cacheAfterMs?: number }): Promise<{ exports: Record<string, unknown>; codeCache: 'accepted' | 'rejected' | 'absent' }>;
