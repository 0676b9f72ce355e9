/** Errors with stable codes; `http/error-handler.ts` is the only place that maps them to HTTP. */
export class WebhookError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly httpStatus: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'WebhookError';
  }
}

/** The body is not a usable admission.k8s.io/v1 AdmissionReview. */
export class ReviewDecodeError extends WebhookError {
  constructor(message: string) {
    super('SG_ERR_BAD_REVIEW', message, 400);
    this.name = 'ReviewDecodeError';
  }
}

/** A configuration file that cannot be used; the message names the field. */
export class ConfigError extends WebhookError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('SG_ERR_CONFIG', message, 500, options);
    this.name = 'ConfigError';
  }
}
