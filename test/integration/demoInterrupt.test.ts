/**
 * Ctrl-C ends `npm run demo`, not its search: the demo process exits (it used to wait forever once the worker
 * SDK had shut its in-process workers down on the signal), says how to continue, and the search stays open
 * on the server for any worker to pick up.
 */
import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { workflowIdFor } from '../../client/searches';
import { createHarness, TINY, TEST_ADDRESS, TEST_NAMESPACE, type Harness } from './harness';

jest.setTimeout(600_000);

const ROOT = path.join(__dirname, '..', '..');

let harness: Harness;

beforeAll(async () => {
  harness = await createHarness('demo-interrupt');
});

afterAll(async () => {
  await harness.close();
});

test('SIGINT: the demo exits with 130 and the instructions, the search stays running', async () => {
  const configFile = path.join(harness.artifactRoot, 'demo.json');
  await fs.writeFile(
    configFile,
    JSON.stringify({
      ...TINY,
      name: 'demo-interrupt',
      artifacts: { root: harness.artifactRoot },
      temporal: {
        ...TINY.temporal,
        address: TEST_ADDRESS,
        namespace: TEST_NAMESPACE,
        taskQueuePrefix: harness.prefix,
      },
    }),
  );
  const loader = pathToFileURL(path.join(ROOT, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href;
  const demo = spawn(
    process.execPath,
    ['--import', loader, path.join(ROOT, 'scripts', 'demo.ts'), configFile],
    {
      env: { ...process.env, CI: 'true' },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  let output = '';
  let searchId: string | null = null;
  const exited = new Promise<number | null>((resolve) => demo.once('exit', (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    demo.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const started = /Search (\S+) started\./.exec(output);
      if (started && searchId === null) {
        searchId = started[1]!;
        resolve();
      }
    });
    void exited.then(() => reject(new Error(`the demo exited before starting its search:\n${output}`)));
  });
  demo.kill('SIGINT');
  const code = await exited;
  try {
    expect(code).toBe(130);
    expect(output).toContain(`SIGINT: the demo stops here. Search ${searchId}`);
    expect(output).toContain('npm run worker');
    expect(output).toContain(`npm run imcnas -- stop ${searchId} --now`);
    const described = await harness.client.workflow.getHandle(workflowIdFor(searchId!)).describe();
    expect(described.status.name).toBe('RUNNING');
  } finally {
    await harness.client.workflow
      .getHandle(workflowIdFor(searchId!))
      .terminate('test cleanup')
      .catch(() => undefined);
  }
});
