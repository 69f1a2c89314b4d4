import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { isClientRoute, PORTAL_DIST } from '../src/http/portal.ts';
import { msOfUuidv7, OutboxCursor, uuidv7Floor } from '../src/modules/live/outbox-cursor.ts';
import { newId } from '../src/security/ids.ts';
import { ensurePortalBuilt } from './helpers/browser.ts';
import { describeEachDialect } from './helpers/each-dialect.ts';

await ensurePortalBuilt();

describe('isClientRoute: which paths get the single-page app', () => {
  it.each([
    ['/', true],
    ['/requests', true],
    ['/requests/0190f3a2-1c2d-7e00-8000-00000000d001', true],
    ['/admin/templates/new', true],
    ['/inbox', true],
    ['/api', false],
    ['/api/v1/users', false],
    ['/api/v1/nope', false],
    ['/oidc', false],
    ['/oidc/auth', false],
    ['/healthz', false],
    ['/readyz', false],
    ['/metrics', false],
    ['/.well-known/openid-configuration', false],
    ['/assets/index-abc.js', false],
    ['/favicon.ico', false],
    // Only whole path segments are reserved.
    ['/apis', true],
    ['/metrics-dashboard', true],
  ])('%s → %s', (path, expected) => {
    expect(isClientRoute(path)).toBe(expected);
  });
});

describe('OutboxCursor: every outbox event once, late commits included', () => {
  const at = (ms: number) => newId({ now: () => ms });
  const T = Date.parse('2026-05-04T09:00:00Z');

  it('reads from a look-back window below the newest id seen', () => {
    const cursor = new OutboxCursor(T, 10_000);
    expect(cursor.lowerBound(T)).toBe(uuidv7Floor(T - 10_000));
    expect(msOfUuidv7(uuidv7Floor(T))).toBe(T);
    const a = at(T + 5_000);
    expect(cursor.accept([{ id: a }], T + 5_000).map((r) => r.id)).toEqual([a]);
    expect(cursor.lowerBound(T + 60_000)).toBe(uuidv7Floor(T + 5_000 - 10_000));
  });

  it('drops ids already delivered when the window is read again', () => {
    const cursor = new OutboxCursor(T);
    const a = at(T + 1);
    const b = at(T + 2);
    expect(cursor.accept([{ id: a }], T + 2)).toHaveLength(1);
    expect(cursor.accept([{ id: a }, { id: b }], T + 3).map((r) => r.id)).toEqual([b]);
    expect(cursor.accept([{ id: a }, { id: b }], T + 4)).toEqual([]);
  });

  it('still delivers an event that committed after a newer one was read', () => {
    const cursor = new OutboxCursor(T);
    const older = at(T + 1_000);
    const newer = at(T + 3_000);
    cursor.accept([{ id: newer }], T + 3_000);
    // The older id is inside the window, so the next read finds it.
    expect(older > cursor.lowerBound(T + 3_500)).toBe(true);
    expect(cursor.accept([{ id: older }, { id: newer }], T + 3_500).map((r) => r.id)).toEqual([older]);
  });

  it('follows a clock that goes back (tests that restore real time)', () => {
    const cursor = new OutboxCursor(T + 3_600_000);
    expect(cursor.lowerBound(T)).toBe(uuidv7Floor(T - 10_000));
  });
});

describeEachDialect('portal: served at / beside the API', (server) => {
  const csp = (h: Headers) => h.get('content-security-policy') ?? '';

  it.each(['/', '/requests', '/requests/0190f3a2-1c2d-7e00-8000-00000000d001', '/admin/templates/new', '/inbox?x=1'])('%s answers the app with a strict CSP', async (path) => {
    const res = await fetch(server().url + path);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    expect(res.headers.get('cache-control')).toBe('no-cache');
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    expect(csp(res.headers)).toContain("script-src 'self'");
    expect(csp(res.headers)).toContain("frame-ancestors 'none'");
    expect(csp(res.headers)).not.toContain('unsafe');
    const html = await res.text();
    expect(html).toBe(readFileSync(`${PORTAL_DIST}index.html`, 'utf8'));
    expect(html).toContain('<div id="root"></div>');
    // Vite emits no inline script the CSP would block.
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
  });

  it('serves hashed assets for a year, compressed when the browser accepts it', async () => {
    const html = await (await fetch(`${server().url}/`)).text();
    const script = /<script[^>]+src="([^"]+)"/.exec(html)![1]!;
    expect(script).toMatch(/^\/assets\/index-[\w-]+\.js$/);
    const plain = await fetch(server().url + script, { headers: { 'accept-encoding': 'identity' } });
    expect(plain.status).toBe(200);
    expect(plain.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(plain.headers.get('content-type')).toMatch(/javascript/);
    const body = await plain.text();
    const br = await fetch(server().url + script, { headers: { 'accept-encoding': 'br' } });
    expect(br.headers.get('content-encoding')).toBe('br');
    expect(await br.text()).toBe(body);
  });

  it('never shadows the API, OIDC or operations endpoints', async () => {
    const url = server().url;
    const missingApi = await server().admin.get('/api/v1/no-such-thing');
    expect(missingApi.status).toBe(404);
    expect(missingApi.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect((await fetch(`${url}/api/v1/users`)).status).toBe(401);
    expect(await (await fetch(`${url}/healthz`)).json()).toEqual({ status: 'ok' });
    const discovery = await fetch(`${url}/oidc/.well-known/openid-configuration`);
    expect(discovery.headers.get('content-type')).toMatch(/^application\/json/);
    expect((await fetch(`${url}/metrics`)).headers.get('content-type') ?? '').not.toMatch(/html/);
    const asset = await fetch(`${url}/assets/missing-file.js`);
    expect(asset.status).toBe(404);
    expect(asset.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect((await fetch(`${url}/index.html`)).status).toBe(404);
    expect((await fetch(`${url}/`, { method: 'POST' })).status).toBe(404);
  });

  it('lists the live stream in the OpenAPI document', async () => {
    const doc = (await (await fetch(`${server().url}/api/v1/openapi.json`)).json()) as { paths: Record<string, Record<string, { tags?: string[] }>> };
    expect(doc.paths['/api/v1/live']?.get?.tags).toEqual(['live']);
    expect(Object.keys(doc.paths).some((p) => p === '/' || p === '/*')).toBe(false);
  });
});
