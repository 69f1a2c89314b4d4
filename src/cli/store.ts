import { closeSync, constants, mkdirSync, openSync, readFileSync, renameSync, statSync, unlinkSync, writeSync, fsyncSync, fstatSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { CliError, EXIT } from './exit-codes.ts';
import { systemClock } from '../clock.ts';

/**
 * Where the CLI keeps its sign-in (DESIGN "Assurance"): a 0700 folder, 0600 files written
 * by temp file + rename (a reader never sees half a file), files others can read are
 * refused, and a lock file (O_EXCL) around refresh, so that two processes never spend
 * the same rotating refresh token.
 */
export interface Credentials {
  server: string;
  client_id: string;
  token_endpoint: string;
  revocation_endpoint?: string;
  refresh_token: string;
  access_token: string;
  /** Epoch ms. */
  access_expires_at: number;
  email?: string;
}

export function configDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.INTERIM_CONFIG_DIR) return env.INTERIM_CONFIG_DIR;
  const base = env.XDG_CONFIG_HOME || join(homedir(), '.config');
  return join(base, 'interim');
}

const FILE = 'credentials.json';
const LOCK = 'credentials.lock';

export class Store {
  readonly dir: string;
  constructor(dir = configDir()) {
    this.dir = dir;
  }

  get file(): string {
    return join(this.dir, FILE);
  }

  /** Creates the folder owner-only; refuses one that others can enter or read. */
  private ensureDir(): void {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const mode = statSync(this.dir).mode & 0o777;
    if (mode & 0o077) throw new CliError(EXIT.error, `${this.dir} is open to other users (mode ${mode.toString(8)}); run: chmod 700 ${this.dir}`);
  }

  read(): Credentials | undefined {
    let fd: number;
    try {
      fd = openSync(this.file, constants.O_RDONLY | constants.O_NOFOLLOW);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
    try {
      const mode = fstatSync(fd).mode & 0o777;
      if (mode & 0o077) throw new CliError(EXIT.error, `refusing ${this.file}: other users can read it (mode ${mode.toString(8)}); run: chmod 600 ${this.file}, or sign in again`);
      return JSON.parse(readFileSync(fd, 'utf8')) as Credentials;
    } catch (error) {
      if (error instanceof SyntaxError) throw new CliError(EXIT.notSignedIn, `${this.file} is not readable; run: interim login`);
      throw error;
    } finally {
      closeSync(fd);
    }
  }

  write(credentials: Credentials): void {
    this.ensureDir();
    const temp = join(this.dir, `.${FILE}.${process.pid}.${systemClock.now()}.tmp`);
    const fd = openSync(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
    try {
      writeSync(fd, JSON.stringify(credentials, null, 2) + '\n');
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, this.file);
  }

  remove(): void {
    try {
      unlinkSync(this.file);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }

  /**
   * Runs `work` holding the lock file. A lock whose holder is gone (its pid no longer
   * runs) or that is older than `staleMs` is taken over; otherwise waits, up to `waitMs`.
   */
  async withLock<T>(work: () => Promise<T>, opts: { waitMs?: number; staleMs?: number } = {}): Promise<T> {
    this.ensureDir();
    const path = join(this.dir, LOCK);
    const until = systemClock.now() + (opts.waitMs ?? 30_000);
    const staleMs = opts.staleMs ?? 60_000;
    for (let delay = 20; ; delay = Math.min(delay * 2, 250)) {
      try {
        const fd = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
        writeSync(fd, JSON.stringify({ pid: process.pid, at: systemClock.now() }));
        closeSync(fd);
        break;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
        if (lockIsStale(path, staleMs)) {
          try {
            unlinkSync(path);
          } catch {
            // Another waiter took it over first.
          }
          continue;
        }
        if (systemClock.now() > until) throw new CliError(EXIT.error, `${path} is held by another interim process; if none runs, delete it`);
        await new Promise((r) => setTimeout(r, delay));
      }
    }
    try {
      return await work();
    } finally {
      try {
        unlinkSync(path);
      } catch {
        // Already gone: nothing to release.
      }
    }
  }
}

function lockIsStale(path: string, staleMs: number): boolean {
  try {
    const { pid, at } = JSON.parse(readFileSync(path, 'utf8')) as { pid?: number; at?: number };
    if (typeof at === 'number' && systemClock.now() - at > staleMs) return true;
    if (typeof pid === 'number' && pid !== process.pid) {
      try {
        process.kill(pid, 0);
      } catch (error) {
        return (error as NodeJS.ErrnoException).code === 'ESRCH';
      }
    }
    return false;
  } catch {
    // Being written right now, or unreadable: stale only by its age.
    try {
      return systemClock.now() - statSync(path).mtimeMs > staleMs;
    } catch {
      return false;
    }
  }
}
