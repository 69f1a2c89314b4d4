/** A small HTTP client for tests: a Bearer token, or a session cookie plus its CSRF token. */
export interface ApiResponse<T = any> { // eslint-disable-line @typescript-eslint/no-explicit-any -- test bodies are asserted field by field
  status: number;
  body: T;
  headers: Headers;
}

export class ApiClient {
  readonly baseUrl: string;
  private token?: string;
  private cookies = new Map<string, string>();
  private csrf?: string;

  constructor(baseUrl: string) {
    this.baseUrl = baseUrl;
  }

  withToken(token: string): ApiClient {
    const c = new ApiClient(this.baseUrl);
    c.token = token;
    return c;
  }

  /** Signs in through POST /api/v1/session and keeps the cookie and CSRF token. */
  async signIn(email: string, password: string): Promise<ApiResponse> {
    const res = await this.post('/api/v1/session', { email, password });
    if (res.status === 200) this.csrf = res.body.csrf_token;
    return res;
  }

  /** Keeps the CSRF token of a session opened by another step (a second factor, a passkey). */
  useCsrf(token: string): void {
    this.csrf = token;
  }

  get cookieHeader(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  get = (path: string) => this.request('GET', path);
  delete = (path: string) => this.request('DELETE', path);
  post = (path: string, body?: unknown) => this.request('POST', path, body);
  patch = (path: string, body?: unknown) => this.request('PATCH', path, body);

  async request(method: string, path: string, body?: unknown, extraHeaders: Record<string, string> = {}): Promise<ApiResponse> {
    const headers: Record<string, string> = { ...extraHeaders };
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    if (this.cookies.size) headers.cookie = this.cookieHeader;
    if (this.csrf && method !== 'GET') headers['x-csrf-token'] = this.csrf;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(this.baseUrl + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), redirect: 'manual' });
    for (const line of res.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq);
      const value = pair!.slice(eq + 1);
      if (value === '' || /max-age=0|expires=Thu, 01 Jan 1970/i.test(line)) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    const text = await res.text();
    const type = res.headers.get('content-type') ?? '';
    return { status: res.status, body: /application\/(problem\+)?json/.test(type) && text ? JSON.parse(text) : text, headers: res.headers };
  }
}
