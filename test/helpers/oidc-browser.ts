/**
 * A minimal browser for OIDC tests: a path-aware cookie jar, manual redirects and HTML
 * form parsing. It follows redirects while they stay on the server and stops at a page
 * or at a redirect that leaves it (the relying party's callback).
 */
export interface Stop {
  status: number;
  url: string;
  /** The page's HTML, when the browser stopped at a page. */
  html?: string;
  /** The redirect that left the server (e.g. the callback with ?code=…). */
  leftTo?: string;
  /** How many pages were visited, redirects included. */
  hops: number;
  /** The headers of the last answer. */
  headers: Headers;
}

interface Cookie {
  name: string;
  value: string;
  path: string;
}

export class Browser {
  private cookies: Cookie[] = [];
  private readonly origin: string;

  constructor(serverUrl: string) {
    this.origin = new URL(serverUrl).origin;
  }

  cookie(name: string): string | undefined {
    return this.cookies.find((c) => c.name === name)?.value;
  }

  setCookie(name: string, value: string, path = '/'): void {
    this.cookies = this.cookies.filter((c) => !(c.name === name && c.path === path));
    this.cookies.push({ name, value, path });
  }

  dropCookie(name: string): void {
    this.cookies = this.cookies.filter((c) => c.name !== name);
  }

  /** The cookie header this browser would send to `url` (for hand-made requests). */
  cookieFor(url: string): string {
    return this.cookieHeader(new URL(url, this.origin));
  }

  private cookieHeader(url: URL): string {
    return this.cookies
      .filter((c) => url.pathname === c.path || url.pathname.startsWith(c.path.endsWith('/') ? c.path : `${c.path}/`) || c.path === '/')
      .map((c) => `${c.name}=${c.value}`)
      .join('; ');
  }

  private store(res: Response): void {
    for (const line of res.headers.getSetCookie()) {
      const [pair, ...attrs] = line.split(';').map((s) => s.trim());
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq);
      const value = pair!.slice(eq + 1);
      const path = attrs.find((a) => /^path=/i.test(a))?.slice(5) || '/';
      const gone = value === '' || attrs.some((a) => /^max-age=0$/i.test(a) || /^expires=.*1970/i.test(a));
      this.cookies = this.cookies.filter((c) => !(c.name === name && c.path === path));
      if (!gone) this.cookies.push({ name, value, path });
    }
  }

  async navigate(url: string, init: { method?: string; form?: Record<string, string>; headers?: Record<string, string> } = {}): Promise<Stop> {
    let current = new URL(url, this.origin);
    let method = init.method ?? (init.form ? 'POST' : 'GET');
    let body: string | undefined = init.form ? new URLSearchParams(init.form).toString() : undefined;
    for (let hops = 1; hops < 20; hops++) {
      const headers: Record<string, string> = { ...init.headers, cookie: this.cookieHeader(current) };
      if (body !== undefined) headers['content-type'] = 'application/x-www-form-urlencoded';
      const res = await fetch(current, { method, headers, body, redirect: 'manual' });
      this.store(res);
      const location = res.headers.get('location');
      if (res.status >= 300 && res.status < 400 && location) {
        await res.arrayBuffer();
        const next = new URL(location, current);
        if (next.origin !== this.origin) return { status: res.status, url: current.href, leftTo: next.href, hops, headers: res.headers };
        current = next;
        method = 'GET';
        body = undefined;
        continue;
      }
      return { status: res.status, url: current.href, html: await res.text(), hops, headers: res.headers };
    }
    throw new Error('too many redirects');
  }
}

const decode = (s: string) => s.replace(/&#(\d+);/g, (_m, n: string) => String.fromCharCode(Number(n))).replace(/&amp;/g, '&');

/** The first form on a page: its action and hidden fields. */
export function parseForm(html: string): { action: string; fields: Record<string, string> } {
  const form = /<form[^>]*action="([^"]*)"/i.exec(html);
  if (!form) throw new Error(`no form on the page:\n${html.slice(0, 500)}`);
  const fields: Record<string, string> = {};
  for (const m of html.matchAll(/<input[^>]*type="hidden"[^>]*name="([^"]*)"[^>]*value="([^"]*)"/gi)) fields[decode(m[1]!)] = decode(m[2]!);
  return { action: decode(form[1]!), fields };
}

export const isLoginForm = (html: string | undefined) => !!html && /name="password"/.test(html);
