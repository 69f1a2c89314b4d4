import { expect, it } from 'vitest';
import { ApiClient } from './helpers/api-client.ts';
import { describeEachDialect } from './helpers/each-dialect.ts';
import { Browser } from './helpers/oidc-browser.ts';
import { allowResource, createUser, PASSWORD, TEST_API } from './helpers/oidc-fixtures.ts';
import { codeFlow, relyingParty } from './helpers/oidc-rp.ts';

const webApp = { redirect_uris: ['https://wiki.example.test/oidc/callback'] };
const fieldsOf = (res: { body: { errors?: { field: string }[] } }) => (res.body.errors ?? []).map((e) => e.field);

/**
 * The applications API's back-channel logout settings (issue 13 §1), on a server with the
 * production outbound policy (no private hosts, https only): validation, authorisation, and
 * what the provider makes of them.
 */
describeEachDialect('back-channel logout settings of an application', (server) => {
  let n = 0;
  const name = () => `bcl settings ${++n}`;

  it('defaults to none; create, read and update keep what was set', async () => {
    const { admin } = server();
    const plain = await admin.post('/api/v1/applications', { ...webApp, name: name() });
    expect(plain.status).toBe(201);
    expect(plain.body).toMatchObject({ backchannel_logout_uri: null, backchannel_logout_session_required: false });

    const made = await admin.post('/api/v1/applications', { ...webApp, name: name(), backchannel_logout_uri: 'https://wiki.example.test/oidc/logout', backchannel_logout_session_required: true });
    expect(made.status, JSON.stringify(made.body)).toBe(201);
    expect(made.body).toMatchObject({ backchannel_logout_uri: 'https://wiki.example.test/oidc/logout', backchannel_logout_session_required: true });
    expect((await admin.get(`/api/v1/applications/${made.body.id}`)).body).toMatchObject({ backchannel_logout_uri: 'https://wiki.example.test/oidc/logout', backchannel_logout_session_required: true });

    const cleared = await admin.patch(`/api/v1/applications/${made.body.id}`, { backchannel_logout_uri: null, backchannel_logout_session_required: false });
    expect(cleared.status).toBe(200);
    expect(cleared.body).toMatchObject({ backchannel_logout_uri: null, backchannel_logout_session_required: false });
    const row = await server().app.core.db.selectFrom('applications').select(['backchannel_logout_uri', 'backchannel_logout_session_required']).where('id', '=', made.body.id).executeTakeFirstOrThrow();
    expect(row).toEqual({ backchannel_logout_uri: null, backchannel_logout_session_required: 0 });
    const audit = await server().app.core.db.selectFrom('audit_events').select('data').where('target_id', '=', made.body.id).where('action', '=', 'application.updated').executeTakeFirstOrThrow();
    expect(JSON.parse(audit.data).before.backchannel_logout_uri).toBe('https://wiki.example.test/oidc/logout');
  });

  it('refuses malformed URIs, private or loopback hosts, plain http and non-boolean flags, naming the field', async () => {
    const { admin } = server();
    const cases: [Record<string, unknown>, string][] = [
      [{ backchannel_logout_uri: 'not a url' }, 'backchannel_logout_uri'],
      [{ backchannel_logout_uri: 'ftp://wiki.example.test/logout' }, 'backchannel_logout_uri'],
      [{ backchannel_logout_uri: 'https://user:pw@wiki.example.test/logout' }, 'backchannel_logout_uri'],
      [{ backchannel_logout_uri: 'https://wiki.example.test/logout#frag' }, 'backchannel_logout_uri'],
      [{ backchannel_logout_uri: 'http://wiki.example.test/logout' }, 'backchannel_logout_uri'],
      [{ backchannel_logout_uri: 'https://10.0.0.7/logout' }, 'backchannel_logout_uri'],
      [{ backchannel_logout_uri: 'https://127.0.0.1/logout' }, 'backchannel_logout_uri'],
      [{ backchannel_logout_uri: 'https://localhost/logout' }, 'backchannel_logout_uri'],
      [{ backchannel_logout_uri: 'https://[::1]/logout' }, 'backchannel_logout_uri'],
      [{ backchannel_logout_uri: 'https://169.254.169.254/latest' }, 'backchannel_logout_uri'],
      [{ backchannel_logout_uri: 42 }, 'backchannel_logout_uri'],
      [{ backchannel_logout_session_required: 'yes' }, 'backchannel_logout_session_required'],
      [{ backchannel_logout_session_required: null }, 'backchannel_logout_session_required'],
    ];
    const existing = await admin.post('/api/v1/applications', { ...webApp, name: name() });
    for (const [override, field] of cases) {
      const created = await admin.post('/api/v1/applications', { ...webApp, name: name(), ...override });
      expect(created.status, JSON.stringify(override)).toBe(400);
      expect(fieldsOf(created), JSON.stringify(override)).toEqual([field]);
      const patched = await admin.patch(`/api/v1/applications/${existing.body.id}`, override);
      expect(patched.status, JSON.stringify(override)).toBe(400);
      expect(fieldsOf(patched), JSON.stringify(override)).toEqual([field]);
    }
    expect((await admin.get(`/api/v1/applications/${existing.body.id}`)).body.backchannel_logout_uri).toBeNull();
  });

  it('only an admin sets it: anonymous 401, a signed-in non-admin 403, nothing changes', async () => {
    const { admin } = server();
    const app = await admin.post('/api/v1/applications', { ...webApp, name: name() });
    await createUser(server(), 'bcl-gina@example.test');
    const gina = new ApiClient(server().url);
    expect((await gina.signIn('bcl-gina@example.test', PASSWORD)).status).toBe(200);
    const setting = { backchannel_logout_uri: 'https://evil.example.test/logout' };
    expect((await gina.patch(`/api/v1/applications/${app.body.id}`, setting)).status).toBe(403);
    expect((await gina.post('/api/v1/applications', { ...webApp, name: name(), ...setting })).status).toBe(403);
    expect((await new ApiClient(server().url).patch(`/api/v1/applications/${app.body.id}`, setting)).status).toBe(401);
    expect((await admin.get(`/api/v1/applications/${app.body.id}`)).body.backchannel_logout_uri).toBeNull();
  });

  it('ID tokens carry sid for an application that requires it, not for one without a logout URI', async () => {
    const s = server();
    const email = 'bcl-sid@example.test';
    await createUser(s, email);
    for (const [settings, hasSid] of [
      [{ backchannel_logout_uri: 'https://rp.example.test/logout', backchannel_logout_session_required: true }, true],
      [{}, false],
    ] as const) {
      const made = await s.admin.post('/api/v1/applications', { name: name(), redirect_uris: ['http://127.0.0.1:9/callback'], first_party: true, ...settings });
      expect(made.status).toBe(201);
      await allowResource(s, TEST_API, made.body.id);
      const app = { id: made.body.id as string, secret: made.body.client_secret as string, redirectUri: 'http://127.0.0.1:9/callback' };
      const { tokens } = await codeFlow(await relyingParty(s, app), new Browser(s.url), app, { email, password: PASSWORD });
      expect(typeof tokens.claims()!.sid === 'string', JSON.stringify(settings)).toBe(hasSid);
    }
  });

});
