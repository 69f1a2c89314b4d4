import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { createPerson, setUpAccess, type AccessSetup } from './helpers/access-fixtures.ts';
import { configFolder, runCli, signedInCli, startCli } from './helpers/cli-session.ts';
import { describeEachDialect } from './helpers/each-dialect.ts';
import { waitForValue } from './helpers/interim-process.ts';

/** `interim … --json` run to its end: exit code and the parsed JSON. */
async function json(dir: string, ...args: string[]) {
  const r = await runCli(dir, ...args, '--json');
  return { code: r.code, stderr: r.stderr, body: r.stdout ? JSON.parse(r.stdout) : undefined };
}

describeEachDialect('interim client commands', (server) => {
  let access: AccessSetup;
  let requesterCli: string;
  let approverCli: string;
  let templateName: string;

  it('sets up: a requester and an approver signed in from their terminals', async () => {
    access = await setUpAccess(server());
    requesterCli = await signedInCli(server(), access.requester);
    approverCli = await signedInCli(server(), access.approver);
    const templates = await json(requesterCli, 'templates');
    expect(templates.code, templates.stderr).toBe(0);
    const fixture = templates.body.find((t: { id: string }) => t.id === access.templateId);
    expect(fixture).toMatchObject({ id: access.templateId, allowed_durations: [60, 240] });
    templateName = fixture.name;
  });

  it('request --wait follows the request until another terminal approves it, then exits 0', async () => {
    const waiting = startCli(requesterCli, 'request', templateName.toUpperCase(), '--for', '1h', '--reason', 'INC-77: disk full', '--field', 'ticket=INC-77', '--field', 'read_only=true', '--wait', '--json');
    const pending = await waitForValue('the request in the approver inbox', async () => {
      const inbox = await json(approverCli, 'inbox');
      return inbox.body?.find((r: { justification: string }) => r.justification === 'INC-77: disk full');
    });
    expect(pending).toMatchObject({ status: 'pending', fields: { ticket: 'INC-77', read_only: true }, requester: { email: access.requester.email } });

    const approved = await json(approverCli, 'approve', pending.id, '--comment', 'go ahead');
    expect(approved.code, approved.stderr).toBe(0);
    expect(approved.body).toMatchObject({ id: pending.id, status: 'approved', decision_comment: 'go ahead' });

    const result = await waiting.done;
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ id: pending.id, status: 'approved' });

    const shown = await json(requesterCli, 'show', pending.id);
    expect(shown.body).toMatchObject({ id: pending.id, status: 'approved', template_id: access.templateId, decided_by: { email: access.approver.email } });
    const human = await runCli(requesterCli, 'show', pending.id);
    expect(human.stdout).toContain(`Decided by   ${access.approver.email}: go ahead`);
    const mine = await json(requesterCli, 'requests', '--status', 'approved');
    expect(mine.body.map((r: { id: string }) => r.id)).toContain(pending.id);

    // The grant can be ended from the terminal too: revoke needs a reason (usage error without one).
    expect((await runCli(approverCli, 'revoke', pending.id)).code).toBe(2);
    const revoked = await json(approverCli, 'revoke', pending.id, '--reason', 'done with it');
    expect(revoked.code, revoked.stderr).toBe(0);
    expect(revoked.body).toMatchObject({ status: 'revoked', revoke_reason: 'done with it' });
  });

  it('a denied request ends --wait with exit code 4; deny needs a comment', async () => {
    const template = await access.template({ name: `cli-deny-${Date.now()}` });
    const waiting = startCli(requesterCli, 'request', template, '--for', '4h', '--reason', 'need it', '--field', 'ticket=T-1', '--wait');
    const pending = await waitForValue('the request', async () => (await json(approverCli, 'inbox')).body?.find((r: { template_id: string }) => r.template_id === template));
    expect((await runCli(approverCli, 'deny', pending.id)).code).toBe(2);
    const denied = await json(approverCli, 'deny', pending.id, '--comment', 'not today');
    expect(denied.code).toBe(0);
    expect(denied.body.status).toBe('denied');
    const result = await waiting.done;
    expect(result.code).toBe(4);
    expect(result.stderr).toContain('request denied: not today');
  });

  it('cancel withdraws a pending request; extend asks for more time on an active grant', async () => {
    const template = await access.template({ name: `cli-cancel-${Date.now()}` });
    const made = await json(requesterCli, 'request', template, '--for', '60', '--reason', 'r', '--field', 'ticket=T-2');
    expect(made.code, made.stderr).toBe(0);
    expect(made.body).toMatchObject({ status: 'pending', duration_mins: 60 });
    const cancelled = await json(requesterCli, 'cancel', made.body.id);
    expect(cancelled.body.status).toBe('cancelled');

    const extendable = await access.template({ name: `cli-extend-${Date.now()}`, allow_extension: true });
    const asked = await json(requesterCli, 'request', extendable, '--for', '1h', '--reason', 'r', '--field', 'ticket=T-3');
    expect((await json(approverCli, 'approve', asked.body.id)).code).toBe(0);
    const granted = await json(requesterCli, 'request', extendable, '--for', '1h', '--reason', 'again', '--field', 'ticket=T-3', '--wait');
    // One open request per template: the approved one is the grant to extend.
    expect(granted.code).toBe(1);
    const extended = await json(requesterCli, 'extend', asked.body.id, '--for', '1h', '--reason', 'still on it');
    expect(extended.code, extended.stderr).toBe(0);
    expect(extended.body).toMatchObject({ kind: 'extension', parent_id: asked.body.id, status: 'pending' });
  });

  it('exit codes: 1 for a refused input, 2 for usage, 3 when not signed in, 4 when refused', async () => {
    const unknown = await json(requesterCli, 'request', 'no such template', '--for', '1h');
    expect(unknown.code).toBe(1);
    expect(unknown.body.error.message).toContain('no template you may request is named "no such template"');

    const badDuration = await runCli(requesterCli, 'request', templateName, '--for', '4 hours');
    expect(badDuration.code, badDuration.stderr).toBe(2);
    expect(badDuration.stderr).toContain('is not a duration');
    const badField = await runCli(requesterCli, 'request', templateName, '--for', '1h', '--field', 'nope=1');
    expect(badField.code, badField.stderr).toBe(2);
    expect(badField.stderr).toContain('has no field "nope"');
    const badStart = await runCli(requesterCli, 'request', templateName, '--for', '1h', '--start', 'tomorrow');
    expect(badStart.code, badStart.stderr).toBe(2);
    const unknownOption = await runCli(requesterCli, 'inbox', '--frobnicate');
    expect(unknownOption.code, unknownOption.stderr).toBe(2);

    // The API's problem detail, in words: a duration the template does not allow.
    const refused = await json(requesterCli, 'request', templateName, '--for', '2h', '--reason', 'x', '--field', 'ticket=T');
    expect(refused.code).toBe(1);
    expect(refused.body.error.problem).toMatchObject({ status: 400 });
    expect(refused.body.error.message).toContain('duration_mins');

    const nobody = await json(configFolder(), 'inbox');
    expect(nobody.code).toBe(3);
    expect(nobody.body.error.message).toContain('not signed in');

    const outsider = await createPerson(server(), 'cli-outsider');
    const outsiderCli = await signedInCli(server(), outsider);
    const made = await json(requesterCli, 'request', access.templateId, '--for', '1h', '--reason', 'r', '--field', 'ticket=T-4');
    // Someone who may not see it: 404, exit 1; the requester approving their own: 403, exit 4.
    const hidden = await json(outsiderCli, 'approve', made.body.id);
    expect(hidden.code).toBe(1);
    expect(hidden.body.error.problem.status).toBe(404);
    const own = await json(requesterCli, 'approve', made.body.id);
    expect(own.body.error.problem.status, JSON.stringify(own.body)).toBe(403);
    expect(own.code).toBe(4);
    expect((await json(requesterCli, 'cancel', made.body.id)).code).toBe(0);
  });

  it('the live feed takes the CLI\'s token, tells it about its request, and ends when the sign-in is revoked', async () => {
    const person = await createPerson(server(), 'cli-live');
    const dir = await signedInCli(server(), person);
    const token = (JSON.parse(readFileSync(join(dir, 'credentials.json'), 'utf8')) as { access_token: string }).access_token;
    const res = await fetch(`${server().url}/api/v1/live`, { headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(200);
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
    let text = '';
    const readUntil = async (done: (t: string) => boolean) => {
      while (!done(text)) {
        const chunk = await reader.read();
        if (chunk.done) return false;
        text += chunk.value;
      }
      return true;
    };
    await readUntil((t) => t.includes(': connected'));
    const made = await json(dir, 'request', access.templateId, '--for', '1h', '--reason', 'r', '--field', 'ticket=T-9');
    expect(made.code, made.stderr).toBe(0);
    expect(await readUntil((t) => t.includes(made.body.id))).toBe(true);
    expect((await json(dir, 'cancel', made.body.id)).code).toBe(0);
    const [device] = (await person.client.get('/api/v1/me/devices')).body.items as { id: string }[];
    expect((await person.client.delete(`/api/v1/me/devices/${device!.id}`)).status).toBe(204);
    // The feed re-checks its listeners every second: the stream ends.
    expect(await readUntil(() => false)).toBe(false);
  });

  it('logout ends the sign-in on the server too, and the folder keeps working for a new login', async () => {
    const person = await createPerson(server(), 'cli-logout');
    const dir = await signedInCli(server(), person);
    expect((await json(dir, 'requests')).code).toBe(0);
    const out = await json(dir, 'logout');
    expect(out).toMatchObject({ code: 0, body: { signed_out: true } });
    expect((await json(dir, 'requests')).code).toBe(3);
    expect((await person.client.get('/api/v1/me/devices')).body.items).toEqual([]);
  });

  it('prints completion scripts for bash, zsh and fish', async () => {
    const bash = await runCli(requesterCli, 'completion', 'bash');
    expect(bash.code).toBe(0);
    expect(bash.stdout).toContain('complete -F _interim interim');
    expect(bash.stdout).toMatch(/request\) opts="[^"]*--for[^"]*--wait/);
    expect((await runCli(requesterCli, 'completion', 'zsh')).stdout).toContain('compdef _interim interim');
    expect((await runCli(requesterCli, 'completion', 'fish')).stdout).toContain("complete -c interim -n '__fish_seen_subcommand_from approve' -l comment");
    expect((await runCli(requesterCli, 'completion', 'tcsh')).code).toBe(2);
  });
});
