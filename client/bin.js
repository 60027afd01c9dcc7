#!/usr/bin/env node
// `imcnas` on the PATH (npm link / npm install -g): runs the TypeScript CLI through tsx.
'use strict';
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { pathToFileURL } = require('node:url');
const root = path.resolve(__dirname, '..');
const loader = pathToFileURL(path.join(root, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href;
const result = spawnSync(
  process.execPath,
  ['--import', loader, path.join(__dirname, 'cli.ts'), ...process.argv.slice(2)],
  {
    stdio: 'inherit',
  },
);
process.exit(result.status === null ? 1 : result.status);
