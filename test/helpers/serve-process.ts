import { spawn, type ChildProcess } from 'node:child_process';

/** Polls in real time until `probe` gives a value. */
export async function waitForValue<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Starts `interim serve` as a real separate process and waits until it is ready. */
export async function startServeProcess(env: Record<string, string>): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--experimental-strip-types', '--disable-warning=ExperimentalWarning', 'src/main.ts', 'serve'], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  await waitForValue(`the server to start (${stderr})`, async () => ((await fetch(`${env.INTERIM_BASE_URL}/readyz`)).ok ? true : undefined));
  return child;
}

/** Kills a process hard (SIGKILL) and waits until it is gone: a crash, not a shutdown. */
export async function crash(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
}
