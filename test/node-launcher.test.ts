import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from './helpers/interim-process.ts';

/**
 * `npm start` on a machine whose node is too old (Debian 12 ships 18, many have 20) runs
 * through scripts/with-node24.mjs. These run it with such a node: OLD_NODE, else the
 * system one at /usr/bin/node when it is old, else Node 20 from the npm registry (cached).
 */
const launcher = path.join(repoRoot, 'scripts/with-node24.mjs');
const pkg = `node-${process.platform}-${process.arch}`;

const versionOf = (node: string) => spawnSync(node, ['--version'], { encoding: 'utf8' }).stdout?.trim() ?? '';
const isOld = (version: string) => {
  const [major, minor] = version.slice(1).split('.').map(Number);
  return major! < 22 || (major === 22 && minor! < 12);
};

/** A node older than 22.12 to launch with; fetched from the npm registry once when the machine has none. */
function findOldNode(): string {
  if (process.env.OLD_NODE) return process.env.OLD_NODE;
  if (existsSync('/usr/bin/node') && isOld(versionOf('/usr/bin/node'))) return '/usr/bin/node';
  const prefix = path.join(process.env.HOME ?? tmpdir(), '.cache', 'interim', 'node20');
  const node = path.join(prefix, 'node_modules', pkg, 'bin', 'node');
  if (!existsSync(node)) {
    const npm = spawnSync('npm', ['install', '--prefix', prefix, '--no-save', '--no-package-lock', '--no-audit', '--no-fund', `${pkg}@20`], { encoding: 'utf8' });
    if (npm.status !== 0) throw new Error(`could not fetch ${pkg}@20 for this suite: ${npm.stderr}`);
  }
  return node;
}

describe('scripts/with-node24.mjs under an old node', () => {
  let work: string;
  let oldNode: string;
  let oldVersion: string;

  beforeAll(() => {
    oldNode = findOldNode();
    oldVersion = versionOf(oldNode);
    if (!isOld(oldVersion)) throw new Error(`this suite needs a node older than 22.12 at ${oldNode}; found ${oldVersion || 'none'}`);
    work = mkdtempSync(path.join(tmpdir(), 'interim-node24-'));
  });
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  function launch(args: string[], env: Record<string, string>) {
    return spawnSync(oldNode, [launcher, ...args], { cwd: work, encoding: 'utf8', env: { PATH: `${path.dirname(oldNode)}:${process.env.PATH ?? ''}`, HOME: work, ...env } });
  }

  it('runs the command on the cached Node 24, with native builds pointed at its headers', () => {
    // A cache that already holds a Node 24 (this test run's own), as after a first fetch.
    const cache = path.join(work, 'seeded');
    mkdirSync(path.join(cache, 'node_modules'), { recursive: true });
    const nodeHome = path.dirname(path.dirname(process.execPath));
    symlinkSync(nodeHome, path.join(cache, 'node_modules', pkg));

    const result = launch(['node', '-p', 'process.version + " " + process.env.npm_config_nodedir'], { INTERIM_NODE_CACHE: cache });
    expect(result.stderr).toBe('');
    expect(result.stdout).toBe(`${process.version} ${path.join(cache, 'node_modules', pkg)}\n`);
    expect(result.status).toBe(0);

    // The command's exit status is the launcher's.
    expect(launch(['node', '-e', 'process.exit(7)'], { INTERIM_NODE_CACHE: cache }).status).toBe(7);
  });

  it('stops in one line, naming the version needed and how to get it, when Node 24 cannot be fetched', () => {
    const cache = path.join(work, 'empty');
    const marker = path.join(work, 'ran');
    const result = launch(['node', '-e', `require("fs").writeFileSync(${JSON.stringify(marker)}, "")`], {
      INTERIM_NODE_CACHE: cache,
      npm_config_registry: 'http://127.0.0.1:9/',
      npm_config_fetch_retries: '0',
    });
    expect(result.status).toBe(1);
    const lines = result.stderr.trimEnd().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toBe(`interim: Interim needs Node.js >= 22.12 (this is ${oldVersion}); fetching Node 24 (${pkg}@24) from the npm registry into ${cache}, once`);
    expect(lines[1]).toMatch(new RegExp(`^interim: Interim needs Node\\.js >= 22\\.12 \\(this is ${oldVersion.replace(/\./g, '\\.')}\\) and fetching Node 24 failed \\(.+\\); install Node\\.js 24 \\(https://nodejs\\.org/\\), or: npm install --prefix ${cache} ${pkg}@24$`));
    expect(existsSync(marker)).toBe(false);
    expect(existsSync(path.join(cache, 'node_modules', pkg, 'bin', 'node'))).toBe(false);
  });

  it('--check (npm test) stops with one line naming the command that gets a good node', () => {
    const result = launch(['--check', 'npm test'], {});
    expect(result.status).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe(`interim: Interim needs Node.js >= 22.12 (this is ${oldVersion}); run: node scripts/with-node24.mjs npm test\n`);
  });

  it('leaves a good node alone: no fetch, the command runs on it', () => {
    const cache = path.join(work, 'untouched');
    const result = spawnSync(process.execPath, [launcher, 'node', '-p', 'process.version'], { cwd: work, encoding: 'utf8', env: { PATH: '/usr/bin:/bin', HOME: work, INTERIM_NODE_CACHE: cache } });
    expect(result.stdout).toBe(`${process.version}\n`);
    expect(result.status).toBe(0);
    expect(existsSync(cache) ? readdirSync(cache) : []).toEqual([]);
    expect(spawnSync(process.execPath, [launcher, '--check', 'npm test']).status).toBe(0);
  });
});

describe('package.json', () => {
  it('builds and starts through the launcher, and checks the node before testing', () => {
    const { scripts } = JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    expect(scripts.prestart).toMatch(/^node scripts\/with-node24\.mjs npm run build:web$/);
    expect(scripts.start).toMatch(/^node scripts\/with-node24\.mjs node .*src\/main\.ts serve$/);
    expect(scripts.interim).toMatch(/^node scripts\/with-node24\.mjs node .*src\/main\.ts$/);
    expect(scripts.pretest).toMatch(/^node scripts\/with-node24\.mjs --check "npm test" && /);
  });
});
