/** Why a gateway could not be built, started or reloaded (config, profiles, drivers). */
export class GatewayError extends Error {
  constructor(
    readonly code: 'PROFILE_INVALID' | 'PROFILE_UNKNOWN' | 'DRIVER_MISSING' | 'START_FAILED' | 'RELOAD_FAILED' | 'RELOAD_ROLLBACK_FAILED',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
