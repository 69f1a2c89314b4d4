#!/usr/bin/env node
import { Command, InvalidArgumentError } from 'commander';
import { ConfigError, loadConfig } from './config.ts';
import { systemClock } from './clock.ts';
import type { Core } from './core.ts';
import type { BootstrapResult } from './modules/users/bootstrap.ts';
import { registerClientCommands } from './cli/commands.ts';

// The server's modules are imported by the commands that run it or open its database: the
// client commands (src/cli) start quickly and never load them.

const program = new Command('interim').description('Interim: an OpenID Connect identity provider with self-service temporary access');

program
  .command('serve', { isDefault: true })
  .description('run the server, one process per core unless INTERIM_PROCESSES says otherwise (and the worker, in one of them, unless INTERIM_RUN_WORKER=false)')
  .action(async () => {
    const config = loadConfig();
    const [{ isServerProcess, runPrimary, runServerProcess }, { buildApp }, { stopOnSignal }] = await Promise.all([import('./cluster.ts'), import('./app.ts'), import('./signals.ts')]);
    if (isServerProcess()) return runServerProcess(config);
    const startedLine = (address: string, processes: number) =>
      `Interim is listening on ${address} (public URL ${config.baseUrl}, ${config.database.kind}, ${processes} ${processes === 1 ? 'process' : 'processes'})\n`;
    if (config.processes > 1) {
      return runPrimary(config, {
        listenError: (error) => listenError(error, config.host, config.port),
        started: (address, bootstrap) => {
          printBootstrap(bootstrap, config.baseUrl);
          process.stderr.write(startedLine(address, config.processes));
        },
        log: (line) => process.stderr.write(`${line}\n`),
      });
    }
    const app = await buildApp(config);
    const { address, bootstrap } = await app.listen().catch(async (error: unknown) => {
      await app.close().catch(() => undefined);
      throw listenError(error, config.host, config.port);
    });
    // Handlers first: whoever waits for the line below may signal us as soon as it appears.
    stopOnSignal(() => app.close());
    printBootstrap(bootstrap, config.baseUrl);
    process.stderr.write(startedLine(address, 1));
  });

program
  .command('migrate')
  .description('apply database migrations and exit')
  .action(async () => {
    const [{ openDatabase }, { migrateToLatest }] = await Promise.all([import('./db/database.ts'), import('./db/migrate.ts')]);
    const database = openDatabase(loadConfig().database);
    const applied = await migrateToLatest(database.db);
    process.stdout.write(applied.length ? `applied: ${applied.join(', ')}\n` : 'database is up to date\n');
    await database.close();
  });

program
  .command('worker')
  .description('run only the background worker (expiry, notifications, deliveries)')
  .action(async () => {
    const config = loadConfig();
    const [{ compose }, { startWorker }, { stopOnSignal }] = await Promise.all([import('./compose.ts'), import('./worker/worker.ts'), import('./signals.ts')]);
    // The same composition as `serve`, without HTTP: the tasks it registered, run on their schedules.
    const composition = await compose(config);
    const worker = startWorker(composition.tasks, { log: consoleLog });
    // The worker's timers are unref'd (they must not hold a server open), and SQLite holds no
    // socket: without this handle the process would exit right after starting.
    const keepAlive = setInterval(() => undefined, 2 ** 30);
    process.stderr.write(`Interim worker running (${config.database.kind}); expiry every ${config.worker.expiryIntervalMs} ms, other due work every ${config.workerIntervalMs} ms\n`);
    stopOnSignal(async () => {
      clearInterval(keepAlive);
      await worker.stop();
      await composition.close();
    });
  });

/**
 * Commands that open the database (DESIGN "Assurance": they live under `interim admin …`;
 * `interim token create` stays as an alias). The client commands (src/cli) use HTTP only.
 */
const admin = program.command('admin').description('operator commands that open the database directly (run them with the server\'s environment)');

const audit = admin.command('audit').description('the tamper-evident audit trail');
audit
  .command('verify')
  .description('re-hash the whole audit chain; exits 1 at the first edited or missing row')
  .option('--head <seq:hash>', 'also check against a head exported earlier (GET /api/v1/audit-head or `interim admin audit head`)')
  .action(async (opts: { head?: string }) => {
    let expected: { seq: number; hash: string } | undefined;
    if (opts.head) {
      const match = /^(\d+):([0-9a-f]{64})$/.exec(opts.head);
      if (!match) throw new ConfigError('--head must look like 123:<64 hex characters>');
      expected = { seq: Number(match[1]), hash: match[2]! };
    }
    const [{ openDatabase }, { verifyAuditChain }] = await Promise.all([import('./db/database.ts'), import('./modules/audit/audit.verify.ts')]);
    const database = openDatabase(loadConfig().database);
    try {
      const result = await verifyAuditChain(database.db, expected);
      if (result.ok) process.stdout.write(`audit chain intact: ${result.seq} events, head ${result.seq}:${result.hash}\n`);
      else process.stdout.write(`audit chain BROKEN at event ${result.seq}: ${result.problem}\n`);
      process.exitCode = result.ok ? 0 : 1;
    } finally {
      await database.close();
    }
  });
audit
  .command('head')
  .description('print the current chain head as <seq>:<hash>, to keep somewhere safe')
  .action(async () => {
    const [{ openDatabase }, { createAuditRepo }] = await Promise.all([import('./db/database.ts'), import('./modules/audit/audit.repo.ts')]);
    const database = openDatabase(loadConfig().database);
    const head = await createAuditRepo(database.db).head();
    process.stdout.write(`${Number(head.seq)}:${head.hash}\n`);
    await database.close();
  });

/** `token create`, under `admin token` and, as an alias, under the client's `token`. */
function addTokenCreate(parent: Command): void {
  parent
    .command('create')
    .description("create an API token for a user (usually an admin) and print only the token; it is shown once (opens the database)")
    .requiredOption('--email <email>', 'email of the user who will own the token')
    .requiredOption('--name <name>', 'a name to recognise the token by')
    .option('--expires-in-days <days>', 'days until the token expires (default: never, which only owners without a lifetime limit may have: admins, by default)', (value: string) => {
      const days = Number(value);
      if (!Number.isInteger(days) || days < 1 || days > 3650) throw new InvalidArgumentError('must be a whole number of days from 1 to 3650');
      return days;
    })
    .action((opts: { email: string; name: string; expiresInDays?: number }) =>
      withCore('interim token create', async (core) => {
        const expiresAt = opts.expiresInDays === undefined ? null : systemClock.now() + opts.expiresInDays * 86_400_000;
        const { createApiTokensService } = await import('./modules/api-tokens/api-tokens.service.ts');
        const issued = await createApiTokensService(core).createForEmail(opts.email, { name: opts.name, expiresAt });
        if (!issued.owner.is_admin) process.stderr.write(`note: ${issued.owner.email} is not an admin; the token can do only what that user may do\n`);
        process.stdout.write(`${issued.token}\n`);
      }),
    );
}
addTokenCreate(admin.command('token').description('manage API tokens'));

admin
  .command('reset-password')
  .description('give a user a new one-time password (to be changed at next sign-in) and end their sessions and tokens')
  .argument('<email>', 'email of the user, e.g. the first admin whose one-time password was lost')
  .action((email: string) =>
    withCore('interim admin reset-password', async (core) => {
      // With every service, so the reset records its signals (logout tokens, SSF events) as an admin's reset does; the server's worker sends them.
      const config = loadConfig();
      const [{ createServices }, { createEncrypter }] = await Promise.all([import('./compose.ts'), import('./security/encryption.ts')]);
      const services = createServices(core, config, createEncrypter(config.masterKey));
      const { user, oneTimePassword } = await services.users.resetPasswordToOneTime(email).finally(() => services.close());
      process.stderr.write(`One-time password for ${user.email} (shown only now; it must be changed at the next sign-in; their sessions and API tokens have ended):\n`);
      if (user.disabled === 1) process.stderr.write(`note: ${user.email} is disabled and cannot sign in until an admin enables them\n`);
      process.stdout.write(`${oneTimePassword}\n`);
    }),
  );

admin
  .command('keys')
  .description("the OpenID Provider's signing and cookie keys")
  .command('rotate')
  .description('publish new signing and cookie keys now; they sign after INTERIM_KEY_PUBLISH_DELAY_MINS, and the old ones retire once their tokens have expired')
  .action(async () => {
    const { rotateKeysCommand } = await import('./oidc/key-rotation.ts');
    process.stdout.write(await rotateKeysCommand(loadConfig()));
  });

// The client commands (login, request, approve, token --app …): HTTP only, never the database.
registerClientCommands(program, addTokenCreate);

/**
 * Runs a one-shot command on the configured database (migrated first). Expected refusals
 * (an unknown email, a disabled user, a bad name) get one clear line and exit 1, no stack.
 */
async function withCore(command: string, run: (core: Core) => Promise<void>): Promise<void> {
  const [{ openCore }, { AppError }] = await Promise.all([import('./compose.ts'), import('./http/errors.ts')]);
  const { database, core } = await openCore(loadConfig(), systemClock);
  try {
    await run(core);
  } catch (err) {
    if (!(err instanceof AppError)) throw err;
    process.stderr.write(`${command}: ${err.message}\n`);
    process.exitCode = 1;
  } finally {
    await database.close();
  }
}

/** A port that cannot be bound is an operator's problem: one line that says which and why. */
function listenError(error: unknown, host: string, port: number): unknown {
  const code = (error as { code?: unknown } | null)?.code;
  const where = `cannot listen on ${host}:${port}`;
  if (code === 'EADDRINUSE') return new ConfigError(`${where}: the port is already in use (stop what holds it, or set INTERIM_PORT)`);
  if (code === 'EACCES') return new ConfigError(`${where}: permission denied (ports below 1024 need privileges; set INTERIM_PORT)`);
  if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND') return new ConfigError(`${where}: no such local address (check INTERIM_HOST)`);
  return error;
}

const consoleLog = {
  info: (obj: object, msg?: string) => process.stderr.write(`${msg ?? ''} ${JSON.stringify(obj)}\n`),
  warn: (obj: object, msg?: string) => process.stderr.write(`WARN ${msg ?? ''} ${JSON.stringify(obj)}\n`),
  error: (obj: object, msg?: string) => process.stderr.write(`ERROR ${msg ?? ''} ${JSON.stringify(obj, Object.getOwnPropertyNames(obj))}\n`),
} as never;

function printBootstrap(result: BootstrapResult, baseUrl: string): void {
  if (!result.created) return;
  const lines = ['', `First admin created: ${result.email}`];
  if (result.oneTimePassword) {
    lines.push(
      `One-time password:   ${result.oneTimePassword}`,
      'It is shown only now. Sign in and you will be asked to change it.',
      `Lost it? interim admin reset-password ${result.email} (from a checkout: npm run interim -- admin reset-password ${result.email})`,
    );
  }
  if (result.tokenCreated) lines.push('INTERIM_BOOTSTRAP_TOKEN is now an admin API token.');
  lines.push(`Sign in at ${baseUrl}/ , or: curl -X POST ${baseUrl}/api/v1/session -H 'content-type: application/json' -d '{"email":"…","password":"…"}'`, '');
  process.stderr.write(lines.join('\n') + '\n');
}

program.parseAsync().catch((err: unknown) => {
  if (err instanceof ConfigError) {
    process.stderr.write(`${err.message}\n`);
    process.exit(2);
  }
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
