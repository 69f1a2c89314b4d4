import { CliError, EXIT } from './exit-codes.ts';
import { Store, type Credentials } from './store.ts';
import { systemClock } from '../clock.ts';

/** Refresh this long before the access token expires, so a request never carries one that dies on the way. */
const EXPIRY_MARGIN_MS = 60_000;

export interface Problem {
  status: number;
  code?: string;
  detail?: string;
  title?: string;
  errors?: { field: string; message: string }[];
  [key: string]: unknown;
}

/** The API's problem detail in words: "detail (code)", with each field error. */
export function describeProblem(p: Problem): string {
  const fields = (p.errors ?? []).map((e) => `${e.field}: ${e.message}`);
  const main = p.detail ?? p.title ?? `HTTP ${p.status}`;
  const extra = fields.filter((f) => !main.includes(f));
  return [main, ...extra].join('; ') + (p.code ? ` (${p.code})` : '');
}

/** Which exit code an API refusal maps to (docs/cli.md). */
export function exitCodeOf(p: Problem): number {
  if (p.status === 401) return EXIT.notSignedIn;
  if (p.code === 'step_up_required' || p.code === 'step_up_invalid' || p.code === 'step_up_stale') return EXIT.stepUp;
  if (p.status === 403) return EXIT.denied;
  return EXIT.error;
}

/** "cannot reach WHERE: why" for a fetch that failed (the network error's cause when it has one). */
export function unreachable(where: string, error: unknown): CliError {
  const cause = (error as Error).cause;
  return new CliError(EXIT.error, `cannot reach ${where}: ${cause instanceof Error ? cause.message : (error as Error).message}`);
}

/** A form POST to an OAuth endpoint; answers the JSON body and status. */
export async function postForm(url: string, form: Record<string, string>): Promise<{ status: number; body: Record<string, unknown> }> {
  let res: Response;
  try {
    res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' }, body: new URLSearchParams(form).toString() });
  } catch (error) {
    throw unreachable(new URL(url).origin, error);
  }
  const text = await res.text();
  let body: Record<string, unknown>;
  try {
    body = text ? (JSON.parse(text) as Record<string, unknown>) : {};
  } catch {
    body = { error: 'invalid_response', error_description: text.slice(0, 200) };
  }
  return { status: res.status, body };
}

/**
 * The signed-in API: every call carries the cached access token, refreshed under the
 * lock when it is about to expire (or when the server says it has ended, once).
 */
export class Api {
  readonly store: Store;
  private credentials?: Credentials;

  constructor(store = new Store()) {
    this.store = store;
  }

  signedIn(): Credentials {
    this.credentials ??= this.store.read();
    if (!this.credentials) throw new CliError(EXIT.notSignedIn, 'not signed in; run: interim login --server URL');
    return this.credentials;
  }

  get server(): string {
    return this.signedIn().server;
  }

  /** A live access token: the cached one, or a fresh one after a refresh under the lock. */
  async accessToken(force = false): Promise<string> {
    const cached = this.signedIn();
    if (!force && cached.access_expires_at - EXPIRY_MARGIN_MS > systemClock.now()) return cached.access_token;
    const stale = cached.access_token;
    return this.store.withLock(async () => {
      // Another process may have refreshed while we waited for the lock: its token is ours too.
      const current = this.store.read();
      if (!current) throw new CliError(EXIT.notSignedIn, 'signed out meanwhile; run: interim login --server URL');
      if (current.access_token !== stale && current.access_expires_at - EXPIRY_MARGIN_MS > systemClock.now()) return (this.credentials = current).access_token;
      const { status, body } = await postForm(current.token_endpoint, { grant_type: 'refresh_token', refresh_token: current.refresh_token, client_id: current.client_id });
      if (status !== 200 || typeof body.access_token !== 'string') {
        if (body.error === 'invalid_grant') throw new CliError(EXIT.notSignedIn, 'your sign-in has ended (expired, signed out or revoked); run: interim login');
        throw new CliError(EXIT.error, `refreshing the sign-in failed: ${String(body.error_description ?? body.error ?? status)}`);
      }
      const next: Credentials = {
        ...current,
        access_token: body.access_token,
        refresh_token: typeof body.refresh_token === 'string' ? body.refresh_token : current.refresh_token,
        access_expires_at: systemClock.now() + Number(body.expires_in ?? 0) * 1000,
      };
      this.store.write(next);
      this.credentials = next;
      return next.access_token;
    });
  }

  /** Calls the API; answers the body of a 2xx, throws a CliError with the problem in words otherwise. */
  async call<T = unknown>(method: string, path: string, body?: unknown): Promise<T> {
    let res = await this.send(method, path, body, await this.accessToken());
    if (res.status === 401) res = await this.send(method, path, body, await this.accessToken(true));
    const text = await res.text();
    const parsed: unknown = text && /json/.test(res.headers.get('content-type') ?? '') ? JSON.parse(text) : text;
    if (res.ok) return parsed as T;
    const problem: Problem = typeof parsed === 'object' && parsed !== null ? { status: res.status, ...(parsed as object) } : { status: res.status, detail: String(parsed).slice(0, 200) };
    if (res.status === 401) throw new CliError(EXIT.notSignedIn, 'your sign-in has ended; run: interim login', problem);
    throw new CliError(exitCodeOf(problem), describeProblem(problem), problem);
  }

  /** Opens a server-sent event stream (GET), or answers undefined when it cannot (then the caller polls). */
  async openStream(path: string, signal: AbortSignal): Promise<ReadableStream<Uint8Array> | undefined> {
    try {
      const res = await fetch(this.server + path, { headers: { authorization: `Bearer ${await this.accessToken()}`, accept: 'text/event-stream' }, signal });
      if (!res.ok || !res.body) {
        await res.body?.cancel();
        return undefined;
      }
      return res.body;
    } catch {
      return undefined;
    }
  }

  private async send(method: string, path: string, body: unknown, token: string): Promise<Response> {
    const headers: Record<string, string> = { authorization: `Bearer ${token}`, accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    try {
      return await fetch(this.server + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    } catch (error) {
      throw unreachable(this.server, error);
    }
  }
}
