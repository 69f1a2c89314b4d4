#!/usr/bin/env node
// Runs a command with a Node.js that Interim supports (>= 22.12) first on PATH.
//
//   node scripts/with-node24.mjs <command> [args...]   run it; with an older node, on Node 24
//   node scripts/with-node24.mjs --check "<hint>"      only check: one line and exit 1 if too old
//
// When the node running this script is older, Node 24 comes from the npm registry (the
// node-<os>-<arch> package, fetched once into ~/.cache/interim/node24, or
// $INTERIM_NODE_CACHE) and npm_config_nodedir points native builds at its headers.
// `npm start` goes through here, so `npm ci && npm start` works on Node 18 and 20 too.
//
// Plain JavaScript on purpose: it must run on the old node it replaces (18 and later).
/* global process */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';

const NEEDED = '22.12';
const args = process.argv.slice(2);

function isSupported(version) {
  const [major, minor] = version.replace(/^v/, '').split('.').map(Number);
  return major > 22 || (major === 22 && minor >= 12);
}

function fail(message) {
  process.stderr.write(`interim: ${message}\n`);
  process.exit(1);
}

function run(command, commandArgs, env) {
  const child = spawn(command, commandArgs, { stdio: 'inherit', env });
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => child.kill(signal));
  child.on('error', (error) => fail(`cannot run ${command}: ${error.message}`));
  child.on('exit', (code, signal) => {
    if (signal) process.kill(process.pid, signal);
    else process.exit(code ?? 1);
  });
}

/** Node 24 in the cache folder, fetched from the npm registry the first time. */
function node24() {
  const os = { linux: 'linux', darwin: 'darwin' }[process.platform];
  const cacheDir = process.env.INTERIM_NODE_CACHE || path.join(process.env.XDG_CACHE_HOME || path.join(homedir(), '.cache'), 'interim', 'node24');
  const pkg = `node-${os}-${process.arch}`;
  const getIt = `install Node.js 24 (https://nodejs.org/), or: npm install --prefix ${cacheDir} ${pkg}@24`;
  const tooOld = `Interim needs Node.js >= ${NEEDED} (this is ${process.version})`;
  if (!os) fail(`${tooOld}; install Node.js 24 (https://nodejs.org/)`);
  const home = path.join(cacheDir, 'node_modules', pkg);
  const bin = path.join(home, 'bin', 'node');
  if (!existsSync(bin)) {
    process.stderr.write(`interim: ${tooOld}; fetching Node 24 (${pkg}@24) from the npm registry into ${cacheDir}, once\n`);
    // The npm that runs us (npm start), else the one on PATH.
    const npm = process.env.npm_execpath ? [process.execPath, process.env.npm_execpath] : ['npm'];
    const install = ['install', '--prefix', cacheDir, '--no-save', '--no-package-lock', '--no-audit', '--no-fund', '--loglevel=error', `${pkg}@24`];
    const fetched = spawnSync(npm[0], [...npm.slice(1), ...install], { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
    const reason = (fetched.error?.message ?? fetched.stderr ?? '').split('\n').find((line) => line.trim()) ?? `exit ${fetched.status}`;
    if (fetched.status !== 0 || !existsSync(bin)) fail(`${tooOld} and fetching Node 24 failed (${reason.trim()}); ${getIt}`);
  }
  const version = spawnSync(bin, ['--version'], { encoding: 'utf8' }).stdout?.trim() ?? '';
  if (!isSupported(version)) fail(`${tooOld} and ${bin} does not run (${version || 'no version'}); remove ${cacheDir} and try again, or ${getIt}`);
  return { binDir: path.dirname(bin), home };
}

if (args[0] === '--check') {
  if (!isSupported(process.version)) fail(`Interim needs Node.js >= ${NEEDED} (this is ${process.version}); run: node scripts/with-node24.mjs ${args[1] ?? 'npm test'}`);
  process.exit(0);
}
if (args.length === 0) fail('usage: node scripts/with-node24.mjs <command> [args...]');

const env = { ...process.env };
if (isSupported(process.version)) {
  // The node running us first, so that `node` in the command is this one.
  env.PATH = `${path.dirname(process.execPath)}${path.delimiter}${env.PATH ?? ''}`;
} else {
  const { binDir, home } = node24();
  env.PATH = `${binDir}${path.delimiter}${env.PATH ?? ''}`;
  env.npm_config_nodedir = home;
}
run(args[0], args.slice(1), env);
