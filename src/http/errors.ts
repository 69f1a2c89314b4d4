/**
 * Errors that reach a client. Each carries a stable `code`; the HTTP layer renders it
 * as RFC 9457 problem+json. Anything else becomes a 500 with no internals.
 */
export interface FieldError {
  field: string;
  message: string;
}

export class AppError extends Error {
  readonly status: number;
  readonly code: string;
  readonly extra: Record<string, unknown>;

  constructor(status: number, code: string, detail: string, extra: Record<string, unknown> = {}) {
    super(detail);
    this.status = status;
    this.code = code;
    this.extra = extra;
  }
}

export const badRequest = (code: string, detail: string, errors: FieldError[] = []) =>
  new AppError(400, code, detail, errors.length ? { errors } : {});

/** A validation failure on one named field of the body. */
export const invalidField = (field: string, message: string) =>
  new AppError(400, 'validation_failed', `${field}: ${message}`, { errors: [{ field, message }] });

export const unauthenticated = () => new AppError(401, 'unauthenticated', 'sign in or send a valid API token');
export const forbidden = (detail = 'you may not do this') => new AppError(403, 'forbidden', detail);
export const notFound = (what: string) => new AppError(404, 'not_found', `${what} not found`);
export const conflict = (code: string, detail: string, extra: Record<string, unknown> = {}) => new AppError(409, code, detail, extra);
export const tooManyRequests = (retryAfterSecs: number) =>
  new AppError(429, 'rate_limited', 'too many attempts; try again later', { retry_after: retryAfterSecs });

/** Turns a condition into a typed error: `assertThat(user, notFound('user'))`. */
export function assertThat(condition: unknown, error: AppError): asserts condition {
  if (!condition) throw error;
}
