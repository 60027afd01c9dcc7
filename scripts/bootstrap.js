#!/usr/bin/env node
/**
 * The first thing `npm test` / `npm run demo` run, in plain JavaScript because nothing is installed yet on a
 * fresh clone: installs the npm dependencies from the lockfile when they are missing or stale, then runs
 * the TypeScript entry point named on the command line through tsx.
 *
 *   node scripts/bootstrap.js <script.ts> [args...]
 */
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const lock = path.join(root, 'package-lock.json');
const installedLock = path.join(root, 'node_modules', '.package-lock.json');

function dependenciesStale() {
  if (!fs.existsSync(installedLock)) return true;
  return fs.statSync(lock).mtimeMs > fs.statSync(installedLock).mtimeMs;
}

/** Runs npm; with `quiet`, its output is kept and returned instead of shown (shown later if needed). */
function npm(args, quiet = false) {
  const command = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const result = spawnSync(command, [...args, '--no-audit', '--no-fund', '--loglevel=error'], {
    cwd: root,
    stdio: quiet ? ['ignore', 'pipe', 'pipe'] : 'inherit',
    encoding: 'utf8',
  });
  return { status: result.status, output: quiet ? `${result.stdout ?? ''}${result.stderr ?? ''}` : '' };
}

if (dependenciesStale()) {
  console.error('[setup] installing npm dependencies from package-lock.json…');
  // `npm ci` is the clean, exact install. Some npm 11 releases refuse a lockfile that lacks the
  // other platforms' optional native packages (npm/cli#4828, #8320) even though this platform's are all
  // there; `npm install --no-save` then installs the same locked versions without rewriting the lockfile.
  // npm ci's own complaint is shown only when the fallback fails too: on its own it is expected noise.
  const clean = npm(['ci'], true);
  if (clean.status !== 0) {
    console.error(
      '[setup] npm ci refused the lockfile; installing the locked versions with npm install --no-save',
    );
    if (npm(['install', '--no-save']).status !== 0) {
      console.error(`[setup] npm ci said:\n${clean.output}`);
      console.error('[setup] npm install failed too; see the messages above');
      process.exit(1);
    }
  }
}

const [script, ...args] = process.argv.slice(2);
if (!script) {
  console.error('usage: node scripts/bootstrap.js <script.ts> [args...]');
  process.exit(2);
}
const loader = require('node:url').pathToFileURL(
  path.join(root, 'node_modules', 'tsx', 'dist', 'loader.mjs'),
).href;
const child = spawnSync(process.execPath, ['--import', loader, path.resolve(root, script), ...args], {
  cwd: process.cwd(),
  stdio: 'inherit',
});
process.exit(child.status === null ? 1 : child.status);
