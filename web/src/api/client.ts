/**
 * The portal's only way to the API: same-origin fetch with the session cookie, the
 * session's CSRF token on every unsafe request, and RFC 9457 problems turned into
 * ApiError so views can show `detail` and the per-field `errors[]`.
 */
export interface FieldError {
  field: string;
  message: string;
}

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly errors: FieldError[];
  readonly body: Record<string, unknown>;

  constructor(status: number, body: Record<string, unknown>) {
    const detail = typeof body.detail === 'string' && body.detail ? body.detail : `the server answered ${status}`;
    super(detail);
    this.status = status;
    this.code = typeof body.code === 'string' ? body.code : 'error';
    this.errors = Array.isArray(body.errors) ? (body.errors as FieldError[]) : [];
    this.body = body;
  }

  /** The message for one field (e.g. "justification", "fields.ticket"), if the API named it. */
  fieldError(field: string): string | undefined {
    return this.errors.find((e) => e.field === field)?.message;
  }
}

let csrfToken = '';
const unauthenticatedListeners = new Set<() => void>();
const enrolmentListeners = new Set<() => void>();

export function setCsrfToken(token: string): void {
  csrfToken = token;
}

/** Called when any call answers 401: the session has ended, so the app shows the sign-in page. */
export function onUnauthenticated(listener: () => void): () => void {
  unauthenticatedListeners.add(listener);
  return () => unauthenticatedListeners.delete(listener);
}

/** Called when a call answers 403 mfa_enrolment_required: the MFA policy now holds this user back, so the app shows the enrolment page. */
export function onEnrolmentRequired(listener: () => void): () => void {
  enrolmentListeners.add(listener);
  return () => enrolmentListeners.delete(listener);
}

type Query = Record<string, string | number | boolean | undefined | null>;

export function withQuery(path: string, query: Query = {}): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) if (value !== undefined && value !== null && value !== '') params.set(key, String(value));
  const text = params.toString();
  return text ? `${path}?${text}` : path;
}

export async function api<T>(method: string, path: string, body?: unknown, extraHeaders: Record<string, string> = {}): Promise<T> {
  const headers: Record<string, string> = { ...extraHeaders, accept: 'application/json' };
  if (method !== 'GET' && method !== 'HEAD' && csrfToken) headers['x-csrf-token'] = csrfToken;
  if (body !== undefined) headers['content-type'] = 'application/json';
  let res: Response;
  try {
    res = await fetch(`/api/v1${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), credentials: 'same-origin' });
  } catch {
    throw new ApiError(0, { code: 'network_error', detail: 'The server could not be reached. Check your connection and try again.' });
  }
  const text = await res.text();
  let parsed: unknown = undefined;
  if (text && /json/.test(res.headers.get('content-type') ?? '')) parsed = JSON.parse(text);
  if (!res.ok) {
    if (res.status === 401 && path !== '/session') for (const listener of unauthenticatedListeners) listener();
    if (res.status === 403 && (parsed as { code?: string } | undefined)?.code === 'mfa_enrolment_required') for (const listener of enrolmentListeners) listener();
    throw new ApiError(res.status, (parsed as Record<string, unknown> | undefined) ?? { detail: text || res.statusText });
  }
  return parsed as T;
}

export const get = <T>(path: string, query?: Query) => api<T>('GET', withQuery(path, query));
export const post = <T>(path: string, body?: unknown) => api<T>('POST', path, body);
export const patch = <T>(path: string, body: unknown, headers?: Record<string, string>) => api<T>('PATCH', path, body, headers);
export const put = <T>(path: string, body?: unknown) => api<T>('PUT', path, body);
export const del = <T = void>(path: string) => api<T>('DELETE', path);
