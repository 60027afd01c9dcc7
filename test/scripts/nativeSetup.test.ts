/**
 * The native set-up's checks before any download: a machine without pip or without a compiler gets an
 * error naming what is missing and the command that installs it (real lookups on a PATH that lacks them).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { checkCompiler, findPythonWithPip } from '../../scripts/nativeSetup';

const saved = { PATH: process.env.PATH, IMCNAS_PYTHON: process.env.IMCNAS_PYTHON };
let emptyDir: string;

beforeEach(() => {
  emptyDir = fs.mkdtempSync(path.join(os.tmpdir(), 'imcnas-empty-path-'));
});

afterEach(() => {
  process.env.PATH = saved.PATH;
  if (saved.IMCNAS_PYTHON === undefined) delete process.env.IMCNAS_PYTHON;
  else process.env.IMCNAS_PYTHON = saved.IMCNAS_PYTHON;
  fs.rmSync(emptyDir, { recursive: true, force: true });
});

test('no Python with pip: the error says how to get one', () => {
  process.env.PATH = emptyDir;
  process.env.IMCNAS_PYTHON = path.join(emptyDir, 'python-that-is-not-there');
  expect(() => findPythonWithPip()).toThrow(
    /Python 3 with pip.*apt-get install -y python3-pip.*IMCNAS_PYTHON/s,
  );
});

test('no compiler: the error names the missing tools and the install command', () => {
  process.env.PATH = emptyDir;
  expect(() => checkCompiler()).toThrow(/c\+\+ and make are missing.*apt-get install -y g\+\+ make/s);
});
