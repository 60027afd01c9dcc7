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

if (dependenciesStale()) {
  console.error('[setup] installing npm dependencies (npm ci)…');
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const result = spawnSync(npm, ['ci', '--no-audit', '--no-fund', '--loglevel=error'], {
    cwd: root,
    stdio: 'inherit',
  });
  if (result.status !== 0) {
    console.error('[setup] npm ci failed; see the messages above');
    process.exit(result.status || 1);
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
