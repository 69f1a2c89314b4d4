import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

/**
 * A throwaway PostgreSQL cluster: initdb in a temp folder, pg_ctl on a free port,
 * removed on stop. As root it runs the server as the `postgres` user, which PostgreSQL requires.
 */
export interface PostgresCluster {
  url: string;
  /** Stops the server and removes the cluster. */
  stop(): void;
}

export type ShutdownMode = 'smart' | 'fast' | 'immediate';

/**
 * A cluster a test may take away and bring back (outage tests). The control calls are
 * asynchronous, so load running in the test process keeps going while pg_ctl works.
 */
export interface ControllableCluster extends PostgresCluster {
  /** pg_ctl restart -m mode -w: resolves once the server accepts connections again. */
  restart(mode: ShutdownMode): Promise<void>;
  /** pg_ctl stop -m mode -w: the data stays; startServer() brings it back. */
  stopServer(mode: ShutdownMode): Promise<void>;
  /** pg_ctl start -w: resolves once the server accepts connections. */
  startServer(): Promise<void>;
  /** SIGSTOP to every server process: connections stay open but nothing answers. */
  freeze(): void;
  /** SIGCONT: the frozen server carries on. */
  thaw(): void;
}

export interface ClusterOptions {
  /**
   * synchronous_commit on: a commit acknowledged to the client survives a crash-like
   * stop (-m immediate). The shared test cluster trades that for speed.
   */
  durable?: boolean;
}

function binDir(): string {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? readdirSync(root).sort((a, b) => Number(b) - Number(a)) : [];
  const found = versions.map((v) => path.join(root, v, 'bin')).find((d) => existsSync(path.join(d, 'initdb')));
  if (!found) throw new Error('PostgreSQL server binaries not found under /usr/lib/postgresql (apt-get install postgresql)');
  return found;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export async function startPostgresCluster(opts: ClusterOptions = {}): Promise<ControllableCluster> {
  const bin = binDir();
  const dir = mkdtempSync(path.join(tmpdir(), 'interim-pg-'));
  const data = path.join(dir, 'data');
  const asRoot = process.getuid?.() === 0;
  if (asRoot) {
    const ids = execFileSync('id', ['-u', 'postgres']).toString().trim();
    const gid = execFileSync('id', ['-g', 'postgres']).toString().trim();
    chownSync(dir, Number(ids), Number(gid));
  }
  chmodSync(dir, 0o700);
  const command = (cmd: string, args: string[]): [string, string[]] =>
    asRoot ? ['runuser', ['-u', 'postgres', '--', path.join(bin, cmd), ...args]] : [path.join(bin, cmd), args];
  const run = (cmd: string, args: string[]) => {
    const [file, argv] = command(cmd, args);
    const result = spawnSync(file, argv, { encoding: 'utf8' });
    if (result.status !== 0) throw new Error(`${cmd} failed: ${result.stderr || result.stdout}`);
  };
  const runAsync = (cmd: string, args: string[]) =>
    new Promise<void>((resolve, reject) => {
      const [file, argv] = command(cmd, args);
      execFile(file, argv, { encoding: 'utf8' }, (error, stdout, stderr) => (error ? reject(new Error(`${cmd} failed: ${stderr || stdout}`)) : resolve()));
    });
  run('initdb', ['-D', data, '-U', 'postgres', '-A', 'trust', '--no-sync', '-E', 'UTF8']);
  const port = await freePort();
  const synchronousCommit = opts.durable ? 'on' : 'off';
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=${synchronousCommit} -c full_page_writes=off -c max_connections=300`;
  const startArgs = ['-D', data, '-o', options, '-l', path.join(dir, 'log'), '-w', 'start'];
  run('pg_ctl', startArgs);
  // The postmaster's pid is the first line of postmaster.pid; every backend is its child.
  // No postmaster.pid: the server is not running (stopped, or between a restart's two
  // halves), so there is nothing to signal. Throwing would hide, from a test's `finally`
  // that thaws, the error that left it down.
  const serverPids = () => {
    let pidFile: string;
    try {
      pidFile = readFileSync(path.join(data, 'postmaster.pid'), 'utf8');
    } catch {
      return [];
    }
    const postmaster = Number(pidFile.split('\n')[0]);
    const children = readdirSync('/proc')
      .filter((entry) => /^\d+$/.test(entry))
      .filter((pid) => {
        try {
          // /proc/<pid>/stat: "pid (comm) state ppid …"; comm may contain spaces, so split after the last ')'.
          const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
          return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === postmaster;
        } catch {
          return false; // gone meanwhile
        }
      })
      .map(Number);
    return [postmaster, ...children];
  };
  const signalServer = (signal: NodeJS.Signals) => {
    for (const pid of serverPids()) {
      try {
        process.kill(pid, signal);
      } catch {
        // a backend that just exited
      }
    }
  };
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    // -l: the new postmaster must not inherit pg_ctl's stdout, or the pipe never closes.
    restart: (mode) => runAsync('pg_ctl', ['-D', data, '-m', mode, '-l', path.join(dir, 'log'), '-w', 'restart']),
    stopServer: (mode) => runAsync('pg_ctl', ['-D', data, '-m', mode, '-w', 'stop']),
    startServer: () => runAsync('pg_ctl', startArgs),
    freeze: () => signalServer('SIGSTOP'),
    thaw: () => signalServer('SIGCONT'),
    stop() {
      try {
        if (existsSync(path.join(data, 'postmaster.pid'))) run('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
