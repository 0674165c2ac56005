// Types of i18n.js for the TypeScript tests.
export const LANGS: readonly ['zh', 'en'];
export const DICTS: { en: Record<string, string>; zh: Record<string, string> };
export function detectLang(languages: readonly string[] | undefined, stored?: string): 'zh' | 'en';
export function translator(lang: string): (key: string, params?: Record<string, unknown>) => string;
