import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { PASSWORD, setUpAccess, validRequest, type AccessSetup } from './helpers/access-fixtures.ts';
import { ApiClient } from './helpers/api-client.ts';
import { signedInCli, startCli } from './helpers/cli-session.ts';
import { describeEachDialect } from './helpers/each-dialect.ts';
import { enrolTotp } from './helpers/factors.ts';
import { auditOf } from './helpers/mfa-api.ts';

const LINKS = '/api/v1/decision-links';
const MINUTE = 60_000;
const LINK_URL = /(http:\/\/\S+\/decide\/[A-Za-z0-9_-]{43})/;

/**
 * Issue 15: `interim approve|deny|revoke` on a template with step-up. The CLI cannot run the
 * second-factor check, so it asks for a one-time decision link, prints it (--no-browser)
 * and waits; the test then plays the approver in the browser through the decision page's
 * API, signed in to the portal with their password and TOTP code.
 *
 * The server runs in this process, on vitest's fake Date (toFake: ['Date'], advancing with
 * real time): TOTP steps and the link's 10 minutes are counted by it. The CLI is a real
 * child process on the real clock, so it cannot share that clock; it judges the link's
 * expiry by the server's time (GET /api/v1/session's server_time) against the link's
 * expires_at, both the server's. Moving the fake Date past expires_at therefore ends the
 * wait within one poll (at most 5 s), with no sleeping for minutes.
 */
describeEachDialect('interim approve|deny|revoke with step-up', (server) => {
  let access: AccessSetup;
  let totp: Awaited<ReturnType<typeof enrolTotp>>;
  let approverCli: string;
  let portal: ApiClient;

  /** A code of a TOTP step not used yet: each check spends its step, so the clock moves on one. */
  const freshCode = () => {
    vi.setSystemTime(Date.now() + 31_000);
    return totp.code();
  };

  beforeAll(async () => {
    vi.useFakeTimers({ toFake: ['Date'], shouldAdvanceTime: true });
    access = await setUpAccess(server());
    totp = await enrolTotp(server(), access.approver.id);
    // The terminal's sign-in asks for the second factor too (the device confirm page).
    approverCli = await signedInCli(server(), access.approver, freshCode);
    // The approver's browser: a portal sign-in in two steps, password then TOTP.
    portal = new ApiClient(server().url);
    const first = await portal.post('/api/v1/session', { email: access.approver.email, password: PASSWORD });
    expect(first.body).toMatchObject({ second_factor_required: true, pending: expect.any(String) });
    const second = await portal.post('/api/v1/session/second-factor', { pending: first.body.pending, totp: freshCode() });
    expect(second.status, JSON.stringify(second.body)).toBe(200);
    portal.useCsrf(second.body.csrf_token);
  });
  afterAll(() => {
    vi.useRealTimers();
  });

  /** A pending request on a template with step-up (its own template: one open request per template and requester). */
  const submit = async () => {
    const template = await access.template({ step_up_minutes: 5 });
    const res = await access.requester.client.post('/api/v1/access-requests', validRequest(template, { fields: { ticket: 'INC-15' } }));
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return res.body.id as string;
  };
  const statusOf = async (id: string) => (await access.requester.client.get(`/api/v1/access-requests/${id}`)).body.status as string;

  /** `interim <decision> …`: answers the running CLI once it has printed its decision link, and the link's token. */
  const decideFromTerminal = async (...args: string[]) => {
    const cli = startCli(approverCli, ...args, '--no-browser');
    const url = await cli.printed(LINK_URL).catch((error: unknown) => {
      cli.kill();
      throw error;
    });
    expect(url.startsWith(`${server().url}/decide/`)).toBe(true);
    return { cli, token: url.split('/').pop()! };
  };

  /** The CLI's result; one still running after `ms` (real time) is killed, and its code is null. */
  const finished = async (cli: ReturnType<typeof startCli>, ms = 20_000) => {
    const timer = setTimeout(cli.kill, ms);
    try {
      return await cli.done;
    } finally {
      clearTimeout(timer);
    }
  };

  /** What the person does on the decision page: reads the link, passes the step-up with a TOTP code, completes it. */
  const completeInBrowser = async (token: string, expected: { decision: string; request: string; comment: string | null }) => {
    const page = await portal.get(`${LINKS}/${token}`);
    expect(page.status, JSON.stringify(page.body)).toBe(200);
    expect(page.body).toMatchObject({
      decision: expected.decision,
      comment: expected.comment,
      request: { id: expected.request },
      step_up: { required: true, has_factor: true, max_age_minutes: 5, binding: { action: expected.decision, target: expected.request } },
    });
    const started = await portal.post('/api/v1/step-up', page.body.step_up.binding);
    expect(started.status, JSON.stringify(started.body)).toBe(201);
    const verified = await portal.post(`/api/v1/step-up/${started.body.id}/verify`, { totp: freshCode() });
    expect(verified.status, JSON.stringify(verified.body)).toBe(200);
    const done = await portal.post(`${LINKS}/${token}/complete`, { step_up: started.body.id });
    expect(done.status, JSON.stringify(done.body)).toBe(200);
    return { proofId: started.body.id as string, decided: done.body };
  };

  it('approve: prints the decision link, waits while the person confirms it with TOTP in the browser, then exits 0 with the approved request', async () => {
    const id = await submit();
    const { cli, token } = await decideFromTerminal('approve', id, '--comment', 'checked from the terminal', '--json');
    expect(cli.stderr()).toContain('This decision needs your second factor');
    // Waiting: nothing is decided until the link is completed.
    expect(await statusOf(id)).toBe('pending');

    const { proofId } = await completeInBrowser(token, { decision: 'approve', request: id, comment: 'checked from the terminal' });
    const result = await finished(cli);
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ id, status: 'approved', decision_comment: 'checked from the terminal', decided_by: { email: access.approver.email } });
    expect(await statusOf(id)).toBe('approved');
    const [event] = (await auditOf(server(), 'access_request.approved')).filter((e) => e.target_id === id);
    expect(event?.data).toMatchObject({ step_up: { proof_id: proofId, method: 'totp' } });
    // The link decided once.
    expect((await portal.get(`${LINKS}/${token}`)).body.code).toBe('link_used');
  });

  it('a link that expires unused ends the command with exit code 5 and decides nothing', async () => {
    const id = await submit();
    const { cli, token } = await decideFromTerminal('approve', id, '--json');
    const expiresAt = Date.parse(/until (\S+)\)/.exec(cli.stderr())![1]!);
    expect(expiresAt - Date.now()).toBeGreaterThan(9 * MINUTE);
    // The server's clock moves past the link's expiry; the CLI learns it from the server.
    vi.setSystemTime(expiresAt + 1000);
    const result = await finished(cli);
    expect(result.code, result.stderr).toBe(5);
    expect(result.stderr).toContain('the decision link expired before the decision was confirmed; nothing was decided');
    expect(JSON.parse(result.stdout)).toMatchObject({ error: { exit_code: 5 } });
    expect(await statusOf(id)).toBe('pending');
    expect((await portal.get(`${LINKS}/${token}`)).body.code).toBe('link_expired');
  });

  it('a request withdrawn while the link waits ends the command with exit code 1: the decision was not made', async () => {
    const id = await submit();
    const { cli, token } = await decideFromTerminal('deny', id, '--comment', 'no', '--json');
    expect((await access.requester.client.post(`/api/v1/access-requests/${id}/cancel`, {})).status).toBe(200);
    const result = await finished(cli);
    expect(result.code, result.stderr).toBe(1);
    expect(result.stderr).toContain('the request was cancelled meanwhile; your decision was not made');
    expect(JSON.parse(result.stdout)).toMatchObject({ error: { exit_code: 1, problem: { request: { id, status: 'cancelled' } } } });
    // The link cannot decide it any more either.
    expect((await portal.get(`${LINKS}/${token}`)).status).toBe(409);
  });

  it('an approver without a second factor is told to add one, and no link is made', async () => {
    const id = await submit();
    const cli = startCli(await signedInCli(server(), access.secondApprover), 'approve', id, '--no-browser', '--json');
    const result = await finished(cli);
    expect(result.code).toBe(5);
    expect(result.stdout + result.stderr).toMatch(/passkey or an authenticator app/);
    expect(result.stderr).not.toContain('/decide/');
    expect(await statusOf(id)).toBe('pending');
  });

  it('deny and revoke go through a decision link the same way', async () => {
    const denied = await submit();
    const deny = await decideFromTerminal('deny', denied, '--comment', 'not during the freeze', '--json');
    await completeInBrowser(deny.token, { decision: 'deny', request: denied, comment: 'not during the freeze' });
    const denyResult = await finished(deny.cli);
    expect(denyResult.code, denyResult.stderr).toBe(0);
    expect(JSON.parse(denyResult.stdout)).toMatchObject({ id: denied, status: 'denied', decision_comment: 'not during the freeze' });

    // A grant to revoke: approved through its own link, then revoked through another.
    const granted = await submit();
    const approve = await decideFromTerminal('approve', granted);
    await completeInBrowser(approve.token, { decision: 'approve', request: granted, comment: null });
    const approveResult = await finished(approve.cli);
    expect(approveResult.code, approveResult.stderr).toBe(0);
    // Without --json: the request's line.
    expect(approveResult.stdout).toMatch(new RegExp(`^${granted}\\s+approved\\b`));

    const revoke = await decideFromTerminal('revoke', granted, '--reason', 'incident closed', '--json');
    await completeInBrowser(revoke.token, { decision: 'revoke', request: granted, comment: 'incident closed' });
    const revokeResult = await finished(revoke.cli);
    expect(revokeResult.code, revokeResult.stderr).toBe(0);
    expect(JSON.parse(revokeResult.stdout)).toMatchObject({ id: granted, status: 'revoked', revoke_reason: 'incident closed' });
    expect(await statusOf(granted)).toBe('revoked');
  });
});
