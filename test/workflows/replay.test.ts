/**
 * Replays recorded histories of real runs through the current workflow code. A change to workflow code
 * that would break a running search fails here; such a change needs `patched()` (see docs/design.md
 * §Temporal conventions).
 * Record a new history with `IMCNAS_RECORD_HISTORIES=1 npx jest test/integration/workflow`.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { Worker } from '@temporalio/worker';
import { ensureWorkflowBundle } from '../../temporal/bundle';

const HISTORIES = path.join(__dirname, '..', 'fixtures', 'histories');

describe('replay of recorded workflow histories', () => {
  it('replays every recorded history without nondeterminism', async () => {
    const files = (await fs.readdir(HISTORIES)).filter((file) => file.endsWith('.json'));
    expect(files.length).toBeGreaterThan(0);
    const bundle = { codePath: await ensureWorkflowBundle() };
    for (const file of files) {
      const history = historyFromJSON(JSON.parse(await fs.readFile(path.join(HISTORIES, file), 'utf8')));
      await Worker.runReplayHistory({ workflowBundle: bundle }, history, file);
    }
  });
});
