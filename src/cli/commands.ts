import { Argument, Command, Option, type CommanderError } from 'commander';
import { Api, postForm } from './api.ts';
import { completionScript, SHELLS } from './completion.ts';
import { CliError, EXIT } from './exit-codes.ts';
import { login, logout, revokeSignIn } from './login.ts';
import { collectField, minutesInWords, parseDuration, parseStart } from './parse.ts';
import {
  all,
  decideInBrowser,
  decisionBody,
  fieldsFor,
  findTemplate,
  requestDetails,
  requestLine,
  waitForDecision,
  type AccessRequest,
  type Decision,
  type Template,
} from './requests.ts';
import { Store } from './store.ts';
import { ACCESS_TOKEN_TYPE, CLI_CLIENT_ID, TOKEN_EXCHANGE_GRANT } from '../oidc/cli-client.ts';

interface Common {
  json?: boolean;
}

const say = (line: string) => process.stderr.write(`${line}\n`);
const print = (text: string): void => void process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
const printJson = (value: unknown): void => void process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);

/**
 * Runs a client command: a CliError (or the API's refusal) becomes one line on stderr, or
 * `{"error": …}` with --json, and its exit code (docs/cli.md); anything else is a bug and
 * keeps its stack.
 */
function run<A extends unknown[]>(name: string, body: (...args: A) => Promise<void>) {
  return async (...args: A) => {
    const opts = args.find((a): a is Common => typeof a === 'object' && a !== null && !(a instanceof Command)) ?? {};
    try {
      await body(...args);
    } catch (error) {
      if (!(error instanceof CliError)) throw error;
      if (opts.json) printJson({ error: { message: error.message, exit_code: error.exitCode, ...(error.problem ? { problem: error.problem } : {}) } });
      process.stderr.write(`interim ${name}: ${error.message}\n`);
      process.exitCode = error.exitCode;
    }
  };
}

/** Usage errors (unknown option, bad value) exit 2; help exits 0. */
function usageExits(command: Command): Command {
  return command.exitOverride((err: CommanderError) => {
    process.exit(err.exitCode === 0 ? 0 : EXIT.usage);
  });
}

function client(program: Command, name: string, description: string): Command {
  return usageExits(program.command(name).description(description).option('--json', 'print the answer as JSON on stdout'));
}

/** The decision commands: approve, deny, revoke. A 403 step_up_required sends the decision through the browser. */
async function decide(api: Api, id: string, decision: Decision, opts: { comment?: string; reason?: string; browser: boolean; json?: boolean }) {
  const path = `/api/v1/access-requests/${encodeURIComponent(id)}/${decision}`;
  const body = decisionBody(decision, opts);
  let result: AccessRequest;
  try {
    result = await api.call<AccessRequest>('POST', path, body);
  } catch (error) {
    const problem = error instanceof CliError ? error.problem : undefined;
    // A decision the template protects with step-up: finish it in the browser through a one-time decision link.
    if (problem?.code !== 'step_up_required' && problem?.code !== 'step_up_stale') throw error;
    const binding = (problem.step_up ?? {}) as { stage?: unknown; no_second_factor?: unknown };
    // Without a second factor no page can finish it: the server's words say to add one first.
    if (binding.no_second_factor === true) throw error;
    const stage = typeof binding.stage === 'number' ? binding.stage : undefined;
    result = await decideInBrowser(api, { id, decision, stage, comment: opts.comment, reason: opts.reason, browser: opts.browser, say });
  }
  if (opts.json) printJson(result);
  else print(requestLine(result));
}

/**
 * Registers the client commands on `program`. `addTokenCreate` adds the `token create`
 * alias (main.ts's, it opens the database) before `token` takes the client's usage exit
 * code, so the alias keeps the admin commands' behaviour.
 */
export function registerClientCommands(program: Command, addTokenCreate: (token: Command) => void): void {
  const api = () => new Api(new Store());

  client(program, 'login', 'sign in to an Interim server from this terminal (device authorization: confirm in a browser)')
    .requiredOption('--server <url>', 'the Interim URL, e.g. https://interim.example.com')
    .option('--no-browser', 'only print the link; do not try to open a browser')
    .action(
      run('login', async (opts: Common & { server: string; browser: boolean }) => {
        const store = new Store();
        const previous = store.read();
        const credentials = await login(store, { server: opts.server, browser: opts.browser, say });
        // Signing in again replaces the sign-in: the old one ends on its server too.
        if (previous && previous.refresh_token !== credentials.refresh_token) await revokeSignIn(previous);
        const signedIn = new Api(store);
        const me = await signedIn.call<{ user: { email: string; name: string } }>('GET', '/api/v1/session');
        // The Api holds the credentials it used (refreshed, if it had to): no second read of the file.
        store.write({ ...signedIn.signedIn(), email: me.user.email });
        if (opts.json) printJson({ server: credentials.server, email: me.user.email, config_dir: store.dir });
        else print(`Signed in to ${credentials.server} as ${me.user.email}.`);
      }),
    );

  client(program, 'logout', 'sign this terminal out (ends its sign-in on the server too)').action(
    run('logout', async (opts: Common) => {
      const was = await logout(api());
      if (opts.json) printJson({ signed_out: was });
      else print(was ? 'Signed out.' : 'Not signed in.');
    }),
  );

  client(program, 'templates', 'the templates you may request').action(
    run('templates', async (opts: Common) => {
      const templates = await all<Template>(api(), '/api/v1/access-request-templates/requestable');
      if (opts.json) return printJson(templates);
      if (templates.length === 0) return print('No templates you may request.');
      for (const t of templates) {
        print(`${t.id}  ${t.name}  (${t.app.name}; ${t.allowed_durations.map(minutesInWords).join(', ')}${t.auto_approve ? '; granted at once' : ''})`);
        for (const f of t.custom_fields) print(`    --field ${f.key}=…  ${f.label}${f.required ? ' (required)' : ''}${f.options?.length ? `: ${f.options.join(' | ')}` : ''}`);
      }
    }),
  );

  client(program, 'request', 'ask for access from a template (by name or id)')
    .argument('<template>', 'template name or id (interim templates)')
    .requiredOption('--for <duration>', "how long: one of the template's durations, e.g. 1h, 4h, 90m", parseDuration)
    .option('--reason <text>', 'why you need it (the justification)', '')
    .option('--field <key=value>', 'a custom field answer; repeat for each', collectField, {})
    .option('--start <when>', 'schedule the start: an ISO 8601 time, or +2h', (v: string) => parseStart(v))
    .option('--wait', 'wait until it is decided; exit 0 only when access is granted')
    .action(
      run('request', async (ref: string, opts: Common & { for: number; reason: string; field: Record<string, string>; start?: string; wait?: boolean }) => {
        const a = api();
        const template = await findTemplate(a, ref);
        let created = await a.call<AccessRequest>('POST', '/api/v1/access-requests', {
          template_id: template.id,
          duration_mins: opts.for,
          justification: opts.reason,
          fields: fieldsFor(template, opts.field),
          ...(opts.start ? { starts_at: opts.start } : {}),
        });
        if (!opts.json) say(`Requested ${template.name} for ${minutesInWords(opts.for)}: ${created.id} (${created.status})`);
        if (opts.wait) {
          if (!opts.json) say('Waiting for a decision…');
          // Ended without access: the error (with --json: {"error": {…, "problem": {"request": …}}}) says how.
          created = await waitForDecision(a, created.id, opts.json ? () => undefined : say);
        }
        if (opts.json) printJson(created);
        else print(requestLine(created));
      }),
    );

  client(program, 'requests', 'your own requests, newest first')
    .addOption(new Option('--status <status>', 'only requests in this state').choices(['pending', 'provisioning', 'approved', 'denied', 'cancelled', 'expired', 'revoked', 'lapsed', 'extended']))
    .action(
      run('requests', async (opts: Common & { status?: string }) => {
        const items = await all<AccessRequest>(api(), `/api/v1/access-requests${opts.status ? `?status=${opts.status}` : ''}`, 5);
        if (opts.json) return printJson(items);
        if (items.length === 0) return print('No requests.');
        for (const r of items) print(requestLine(r));
      }),
    );

  client(program, 'show', 'one request in full')
    .argument('<id>', 'request id')
    .action(
      run('show', async (id: string, opts: Common) => {
        const r = await api().call<AccessRequest>('GET', `/api/v1/access-requests/${encodeURIComponent(id)}`);
        if (opts.json) printJson(r);
        else print(requestDetails(r));
      }),
    );

  client(program, 'cancel', 'withdraw your own pending request')
    .argument('<id>', 'request id')
    .action(
      run('cancel', async (id: string, opts: Common) => {
        const r = await api().call<AccessRequest>('POST', `/api/v1/access-requests/${encodeURIComponent(id)}/cancel`, {});
        if (opts.json) printJson(r);
        else print(requestLine(r));
      }),
    );

  client(program, 'extend', 'ask for more time on your active grant')
    .argument('<id>', 'request id of the active grant')
    .requiredOption('--for <duration>', "how much longer: one of the template's durations", parseDuration)
    .requiredOption('--reason <text>', 'why you need longer')
    .action(
      run('extend', async (id: string, opts: Common & { for: number; reason: string }) => {
        const r = await api().call<AccessRequest>('POST', `/api/v1/access-requests/${encodeURIComponent(id)}/extensions`, { duration_mins: opts.for, justification: opts.reason });
        if (opts.json) printJson(r);
        else print(requestLine(r));
      }),
    );

  client(program, 'inbox', 'requests waiting for your decision, oldest first').action(
    run('inbox', async (opts: Common) => {
      const items = await all<AccessRequest>(api(), '/api/v1/access-requests/inbox', 5);
      if (opts.json) return printJson(items);
      if (items.length === 0) return print('Nothing to decide.');
      for (const r of items) print(`${requestLine(r)}  by ${r.requester.email}${r.justification ? `: ${r.justification}` : ''}`);
    }),
  );

  client(program, 'approve', 'approve a pending request')
    .argument('<id>', 'request id')
    .option('--comment <text>', 'a note for the requester')
    .option('--no-browser', 'when a second factor is needed, only print the link')
    .action(run('approve', async (id: string, opts: Common & { comment?: string; browser: boolean }) => decide(api(), id, 'approve', opts)));

  client(program, 'deny', 'deny a pending request')
    .argument('<id>', 'request id')
    .requiredOption('--comment <text>', 'why (the requester sees it)')
    .option('--no-browser', 'when a second factor is needed, only print the link')
    .action(run('deny', async (id: string, opts: Common & { comment: string; browser: boolean }) => decide(api(), id, 'deny', opts)));

  client(program, 'revoke', 'end an approved grant early')
    .argument('<id>', 'request id')
    .requiredOption('--reason <text>', 'why (recorded and shown)')
    .option('--no-browser', 'when a second factor is needed, only print the link')
    .action(run('revoke', async (id: string, opts: Common & { reason: string; browser: boolean }) => decide(api(), id, 'revoke', opts)));

  const token = program.command('token');
  addTokenCreate(token);
  usageExits(token)
    .description('print a fresh access token for an application, for scripts (token exchange); `token create` makes an API token (admin, opens the database)')
    .option('--json', 'print the answer as JSON on stdout')
    .option('--app <client>', "the application's client id")
    .option('--resource <url>', 'a resource server (API) the application may call: the token is for it (aud = the URL)')
    .action(
      run('token', async (opts: Common & { app?: string; resource?: string }) => {
        if (!opts.app) throw new CliError(EXIT.usage, 'say which application: interim token --app CLIENT_ID (or interim token create … for an API token)');
        const a = api();
        const subject = await a.accessToken();
        const credentials = a.signedIn();
        const exchange = async (subjectToken: string) =>
          postForm(credentials.token_endpoint, {
            grant_type: TOKEN_EXCHANGE_GRANT,
            client_id: CLI_CLIENT_ID,
            subject_token: subjectToken,
            subject_token_type: ACCESS_TOKEN_TYPE,
            audience: opts.app!,
            ...(opts.resource ? { resource: opts.resource } : {}),
          });
        let answer = await exchange(subject);
        // A subject token that ended since it was cached: refresh once and try again.
        if (answer.body.error === 'invalid_grant') answer = await exchange(await a.accessToken(true));
        const { status, body } = answer;
        if (status !== 200 || typeof body.access_token !== 'string') {
          const text = String(body.error_description ?? body.error ?? status);
          if (body.error === 'invalid_target') throw new CliError(EXIT.denied, `no application with client id "${opts.app}": ${text}`, body);
          if (body.error === 'invalid_grant') throw new CliError(EXIT.notSignedIn, `your sign-in has ended: ${text}; run: interim login`, body);
          throw new CliError(EXIT.denied, `the server refused: ${text}`, body);
        }
        if (opts.json) printJson({ access_token: body.access_token, token_type: body.token_type, expires_in: body.expires_in, issued_token_type: body.issued_token_type });
        else print(body.access_token);
      }),
    );

  client(program, 'completion', 'print a shell completion script: eval "$(interim completion bash)"')
    .addArgument(new Argument('<shell>', 'bash, zsh or fish').choices(SHELLS))
    .action(
      run('completion', async (shell: (typeof SHELLS)[number], opts: Common) => {
        const script = completionScript(shell, program);
        if (opts.json) printJson({ shell, script });
        else print(script);
      }),
    );

}
