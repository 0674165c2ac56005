export type StoreErrorCode = 'STORE_READ_ONLY' | 'TABLE_NOT_OWNED' | 'TABLE_TAKEN' | 'STATEMENT_RETURNS_NOTHING';

/** A misuse of the store by another part (a programming error: retrying cannot help). */
export class StoreError extends Error {
  readonly retryable = false;
  constructor(
    readonly code: StoreErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'StoreError';
  }
}
