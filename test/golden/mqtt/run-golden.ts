import { fileURLToPath } from 'node:url';

/** This folder's golden files (`<profile>.yaml`); gateway/golden/run.ts runs them. */
export const GOLDEN_DIR = fileURLToPath(new URL('.', import.meta.url));
