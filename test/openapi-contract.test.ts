import { expect, it } from 'vitest';
import { problemBody } from '../src/http/openapi.ts';
import { describeEachDialect } from './helpers/each-dialect.ts';

/**
 * The OpenAPI document against the live answers: every operation it lists is called
 * unauthenticated and as an admin, with no body, an empty body, a body that is not an
 * object and a body that is not JSON, and every status that comes back must be one the
 * document declares for that operation, every problem+json body must match the Problem
 * schema, and every method it does not list answers 405 with the methods it does.
 */
interface Operation {
  security?: unknown[];
  requestBody?: { required?: boolean };
  parameters?: { in: string; name: string; schema?: { type?: string } }[];
  responses: Record<string, { content?: Record<string, unknown> }>;
}
type Doc = { paths: Record<string, Record<string, Operation>>; components: { schemas: Record<string, unknown> } };

const SOME_ID = '0190a000-0000-7000-8000-000000000000';
const METHODS = ['get', 'post', 'put', 'patch', 'delete'];

interface Call {
  label: string;
  headers: Record<string, string>;
  body?: string;
  query?: string;
}

/** The calls made of one operation, for one caller. */
function callsFor(op: Operation, auth: Record<string, string>): Call[] {
  const calls: Call[] = [{ label: 'no body', headers: auth }];
  if (op.requestBody) {
    calls.push({ label: 'empty object', headers: { ...auth, 'content-type': 'application/json' }, body: '{}' });
    calls.push({ label: 'not an object', headers: { ...auth, 'content-type': 'application/json' }, body: '"x"' });
    calls.push({ label: 'not JSON', headers: { ...auth, 'content-type': 'text/plain' }, body: 'x' });
  }
  const numeric = (op.parameters ?? []).filter((p) => p.in === 'query' && p.schema?.type === 'integer');
  if (numeric.length) calls.push({ label: 'bad query', headers: auth, query: numeric.map((p) => `${p.name}=not-a-number`).join('&') });
  return calls;
}

async function call(baseUrl: string, method: string, path: string, c: Call) {
  const url = `${baseUrl}${path.replace(/\{[^}]+\}/g, SOME_ID)}${c.query ? `?${c.query}` : ''}`;
  const res = await fetch(url, { method: method.toUpperCase(), headers: c.headers, body: c.body, redirect: 'manual' });
  const type = res.headers.get('content-type') ?? '';
  // The live stream never ends: read only what is JSON.
  const body = /json/.test(type) ? await res.text() : (await res.body?.cancel(), '');
  return { status: res.status, type, body, headers: res.headers };
}

describeEachDialect('OpenAPI document against the live API', (server) => {
  let doc: Doc;
  const load = async () => {
    doc ??= (await (await fetch(`${server().url}/api/v1/openapi.json`)).json()) as Doc;
    return doc;
  };

  it('declares every status the API answers, and problem+json bodies match the Problem schema', async () => {
    const s = server();
    const { paths } = await load();
    const undeclared: string[] = [];
    let calls = 0;
    for (const [path, operations] of Object.entries(paths)) {
      for (const [method, op] of Object.entries(operations)) {
        const isPublic = Array.isArray(op.security) && op.security.length === 0;
        for (const [who, auth] of [
          ['anonymous', {}],
          ['admin', { authorization: `Bearer ${s.adminToken}` }],
        ] as const) {
          for (const c of callsFor(op, auth)) {
            const res = await call(s.url, method, path, c);
            calls++;
            const where = `${method.toUpperCase()} ${path} as ${who} (${c.label}) → ${res.status}`;
            if (!(String(res.status) in op.responses)) undeclared.push(where);
            if (who === 'anonymous' && !isPublic) expect(res.status, where).toBe(401);
            if (res.status >= 400) {
              expect(res.type, where).toMatch(/^application\/problem\+json/);
              const problem = problemBody.safeParse(JSON.parse(res.body));
              expect(problem.success, `${where}: ${res.body}`).toBe(true);
              expect(problem.data?.status, where).toBe(res.status);
              // A declared error answer is documented as problem+json.
              if (String(res.status) in op.responses) expect(Object.keys(op.responses[String(res.status)]!.content ?? {}), where).toEqual(['application/problem+json']);
            }
            if (res.status === 204) expect(res.body, where).toBe('');
          }
        }
      }
    }
    expect(calls).toBeGreaterThan(200);
    expect(undeclared).toEqual([]);
  });

  it('states what is public, what DELETE answers and which bodies may be left out', async () => {
    const { paths } = await load();
    const publicOps = Object.entries(paths).flatMap(([path, ops]) =>
      Object.entries(ops)
        .filter(([, op]) => Array.isArray(op.security) && op.security.length === 0)
        .map(([method]) => `${method.toUpperCase()} ${path}`),
    );
    expect(publicOps.sort()).toEqual(['GET /healthz', 'GET /readyz', 'POST /api/v1/session', 'POST /api/v1/session/passkey', 'POST /api/v1/session/passkey/options', 'POST /api/v1/session/second-factor', 'POST /api/v1/slack/interactions']);
    for (const [path, ops] of Object.entries(paths)) {
      if (ops.delete) expect(Object.keys(ops.delete.responses).filter((s) => s.startsWith('2')), path).toEqual(['204']);
      for (const op of Object.values(ops)) if (!op.security) expect(op.responses['401'], path).toBeDefined();
    }
    // The webhook secret rotation generates a secret when the body is left out; the document says so.
    expect(paths['/api/v1/event-actions/{id}/rotate-secret']!.post!.requestBody!.required).toBe(false);
    expect(paths['/api/v1/users']!.post!.requestBody!.required).toBe(true);
    expect(doc.components.schemas.Problem).toMatchObject({ type: 'object', required: expect.arrayContaining(['type', 'title', 'status', 'code', 'detail']) });
  });

  it('answers a method the document does not list with 405 and the methods it does', async () => {
    const s = server();
    const { paths } = await load();
    for (const [path, ops] of Object.entries(paths)) {
      if (!path.startsWith('/api/')) continue;
      const listed = Object.keys(ops).map((m) => m.toUpperCase());
      const expected = [...listed, ...(listed.includes('GET') ? ['HEAD'] : [])];
      // PATCH …/templates/requestable is PATCH …/templates/{id} with a bad id (a 400): not unlisted.
      const routedElsewhere = (method: string) =>
        Object.entries(paths).some(([other, otherOps]) => other !== path && otherOps[method] && new RegExp(`^${other.replace(/\{[^}]+\}/g, '[^/]+')}$`).test(path));
      for (const method of METHODS.filter((m) => !ops[m] && !routedElsewhere(m))) {
        const res = await call(s.url, method, path, { label: 'unlisted', headers: { authorization: `Bearer ${s.adminToken}` } });
        const where = `${method.toUpperCase()} ${path}`;
        expect(res.status, where).toBe(405);
        expect(res.headers.get('allow')?.split(', ').sort(), where).toEqual(expected.sort());
      }
    }
  });
});
