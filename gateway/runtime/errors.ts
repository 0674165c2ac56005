/** Why a gateway could not be built or started (config, profiles, drivers). */
export class GatewayError extends Error {
  constructor(
    readonly code: 'PROFILE_INVALID' | 'PROFILE_UNKNOWN' | 'DRIVER_MISSING' | 'START_FAILED',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
