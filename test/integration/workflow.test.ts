/**
 * The first workflow end to end on the real dev server: completion, progress and search attributes,
 * resume after the training child is killed, cancellation stopping the child, and replay of the recorded
 * history.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { WorkflowFailedError } from '@temporalio/client';
import { CancelledFailure } from '@temporalio/common';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { Worker } from '@temporalio/worker';
import type { SearchProgress, SearchResult } from '../../contracts';
import { ensureWorkflowBundle } from '../../temporal/bundle';
import {
  createHarness,
  processAlive,
  readTrainLog,
  startNasSearch,
  TINY,
  supernetChunk,
  waitFor,
  type Harness,
} from './harness';

jest.setTimeout(1_800_000);

describe('nasSearch on the real Temporal dev server', () => {
  let harness: Harness;
  beforeAll(async () => {
    harness = await createHarness('workflow');
    await harness.startWorkers();
  });
  afterAll(async () => {
    await harness?.close();
  });

  it('runs all four stages to completion, answers the progress query and upserts search attributes', async () => {
    // With a tiny hand-designed baseline (ResNet-style shortcuts) on the default baseline chip.
    const input = harness.input('e2e', {
      ...TINY,
      baseline: {
        networks: [
          {
            name: 'tiny-resnet',
            stem: { channels: 8, stride: 2 },
            stages: [{ blocks: 2, channels: 8, stride: 2 }],
            residual: true,
          },
        ],
      },
    });
    const handle = await startNasSearch(harness, input);
    const result = (await handle.result()) as SearchResult;
    expect((await supernetChunk(input.runDir, 2)).globalStep).toBe(20);
    // Learning quality is the supernet tests' and benchmark's business; here: measured and carried through.
    expect(result.supernetValidationAccuracy).toBe((await supernetChunk(input.runDir, 2)).validationAccuracy);
    expect(result.generations).toBe(1);
    expect(result.evaluations).toBe(4);
    expect(result.front.length).toBeGreaterThan(0);
    expect(result.robust).toHaveLength(1);
    expect(result.finals).toHaveLength(1);
    expect(result.finals[0].samples).toBe(2);
    // The baseline went through the same retraining and noisy test and is in results.json, compared.
    expect(result.baselines?.map((b) => [b.key, b.samples])).toEqual([['baseline-tiny-resnet', 2]]);
    const written = JSON.parse(await fs.readFile(path.join(input.runDir, 'results.json'), 'utf8')) as {
      baselines: Array<{
        name: string;
        testAccuracyMean: number;
        versus: { searchedKey: string; edapRatio: number };
      }>;
    };
    expect(written.baselines).toHaveLength(1);
    expect(written.baselines[0]!.name).toBe('tiny-resnet');
    expect(written.baselines[0]!.versus.searchedKey).toBe(result.finals[0].key);
    expect(written.baselines[0]!.versus.edapRatio).toBeCloseTo(
      result.baselines![0]!.hardware.edap / result.finals[0].hardware.edap,
      12,
    );
    expect(await fs.readdir(path.join(input.runDir, 'baseline', 'tiny-resnet', 'model'))).toEqual(
      expect.arrayContaining(['folded-network.json', 'hardware.json', 'tfjs']),
    );
    const report = await fs.readFile(path.join(input.runDir, 'report.html'), 'utf8');
    expect(report).toContain('baseline-tiny-resnet');
    const progress = await handle.query<SearchProgress>('progress');
    expect(progress).toMatchObject({ stage: 'done', epochsCompleted: 2, epochsTotal: 2, generation: 1 });
    const described = await handle.describe();
    expect(described.searchAttributes.ImcnasStage).toEqual(['done']);
    expect(described.searchAttributes.ImcnasDataset).toEqual(['fashion-mnist']);
    // Artifacts: the config and manifest beside the checkpoints, each written once.
    const files = await fs.readdir(input.runDir);
    expect(files).toEqual(
      expect.arrayContaining([
        'config.yaml',
        'manifest.json',
        'supernet',
        'search',
        'robust',
        'final',
        'baseline',
        'results.json',
        'front.csv',
      ]),
    );
    const exported = await fs.readdir(result.finals[0].exportDir);
    expect(exported).toEqual(
      expect.arrayContaining(['folded-network.json', 'hardware.json', 'tfjs', 'model.onnx']),
    );
    // Stage 4 exported each tested design to NeuroSim and aihwkit beside it, or says which field the tool
    // cannot express (this test's tiny layers are narrower than the tile NeuroSim needs for 64-row arrays).
    for (const tested of [...result.finals, ...(result.baselines ?? [])]) {
      const exports = [
        ['neurosim', tested.neurosimExport!, ['NetWork.csv', 'param.json', 'run.sh']],
        ['aihwkit', tested.aihwkitExport!, ['model.onnx', 'aihwkit.json']],
      ] as const;
      for (const [tool, exported, files] of exports) {
        if ('dir' in exported) {
          expect(exported.dir).toBe(path.join('export', tested.key, tool));
          expect(await fs.readdir(path.join(input.runDir, exported.dir))).toEqual(
            expect.arrayContaining([...files]),
          );
        } else {
          expect(exported.problems.length).toBeGreaterThan(0);
          for (const problem of exported.problems) expect(problem).toMatch(/^[A-Za-z.*]+: /);
        }
      }
    }

    // Replay the recorded history against the current workflow code: determinism guard.
    const history = await handle.fetchHistory();
    await Worker.runReplayHistory(
      { workflowBundle: { codePath: await ensureWorkflowBundle() } },
      history,
      handle.workflowId,
    );
    if (process.env.IMCNAS_RECORD_HISTORIES === '1') {
      // One file per recording day: older histories stay, so replay keeps checking every recorded version.
      const day = new Date().toISOString().slice(0, 10);
      const file = path.join(__dirname, '..', 'fixtures', 'histories', `nasSearch-tiny-${day}.json`);
      await fs.mkdir(path.dirname(file), { recursive: true });
      await fs.writeFile(file, historyToJSON(history));
    }
  });

  it('resumes from the newest checkpoint after the training child is killed, redoing no finished step', async () => {
    const input = harness.input('killed-child', {
      ...TINY,
      dataset: { name: 'fashion-mnist', trainSubset: 2000, validation: 500 },
      supernet: { ...TINY.supernet, epochs: 1, stepsPerEpoch: 40, checkpointEverySteps: 1 },
    });
    const handle = await startNasSearch(harness, input);
    const victim = await waitFor(async () => {
      const log = await readTrainLog(input.runDir);
      return log.length >= 8 ? log[log.length - 1].pid : undefined;
    }, 'eight checkpointed steps');
    process.kill(victim, 'SIGKILL');
    await handle.result();
    const chunk = await supernetChunk(input.runDir, 1);
    expect(chunk.attempt).toBeGreaterThanOrEqual(2);
    expect(chunk.resumedFromStep).toBeGreaterThanOrEqual(8);
    expect(chunk.globalStep).toBe(40);
    const log = await readTrainLog(input.runDir);
    // Every step appears exactly once, in order, although two processes trained.
    expect(log.map((line) => line.globalStep)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    expect(new Set(log.map((line) => line.pid)).size).toBeGreaterThanOrEqual(2);
    expect(chunk.stepsRun).toBe(40 - chunk.resumedFromStep);
  });

  it('an external evaluator answers stages 3 and 4 on exactly the images imcnas chose', async () => {
    const evaluator = path.join(__dirname, '..', '..', 'examples', 'evaluators', 'weight-noise-chip.ts');
    const input = harness.input('external-evaluator', {
      ...TINY,
      robustness: {
        ...TINY.robustness,
        evaluator: {
          command: [process.execPath, '--import', require.resolve('tsx'), evaluator, '--sigma=0'],
        },
      },
    });
    const result = (await (await startNasSearch(harness, input)).result()) as SearchResult;
    expect(result.outcome).toBe('complete');
    expect(result.robust).toHaveLength(1);
    // No device noise: every chip measures the network's own accuracy on the same validation images.
    expect(result.robust[0]!.evaluator).toMatch(/weight-noise/);
    expect(result.robust[0]!.accuracyMean).toBe(result.robust[0]!.digitalAccuracy);
    expect(result.finals[0]!.testAccuracyMean).toBe(result.finals[0]!.testAccuracyDigital);
  });

  it('a wrong evaluator command fails the search at stage 3, naming the cause, instead of completing empty', async () => {
    const input = harness.input('wrong-evaluator', {
      ...TINY,
      robustness: { ...TINY.robustness, evaluator: { command: ['/nonexistent/imcnas-evaluator'] } },
    });
    const handle = await startNasSearch(harness, input);
    const error = await handle.result().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WorkflowFailedError);
    const cause = (error as WorkflowFailedError).cause as Error & { type?: string };
    expect(cause.type).toBe('StageFailedError');
    expect(cause.message).toMatch(/stage 3 \(robustness\): all 1 evaluations failed/);
    expect(cause.message).toMatch(/\/nonexistent\/imcnas-evaluator/);
    // Failed for good at once: the setup error is not retried.
    const events = (await handle.fetchHistory()).events ?? [];
    const robustnessIds = new Set(
      events
        .filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'evaluateRobustness')
        .map((e) => String(e.eventId)),
    );
    const attempts = events
      .filter((e) => robustnessIds.has(String(e.activityTaskStartedEventAttributes?.scheduledEventId)))
      .map((e) => e.activityTaskStartedEventAttributes!.attempt);
    expect(attempts).toEqual([1]);
    // No results file claims a finished search.
    await expect(fs.stat(path.join(input.runDir, 'results.json'))).rejects.toThrow();
  });

  it("a training child killed between a checkpoint's tensors and its metadata resumes and finishes", async () => {
    const marker = path.join(harness.artifactRoot, 'killed-in-checkpoint');
    const input = harness.input('killed-in-checkpoint', {
      ...TINY,
      supernet: { ...TINY.supernet, epochs: 1, stepsPerEpoch: 20, checkpointEverySteps: 5 },
    });
    // The training child kills itself (SIGKILL) inside its first checkpoint write (storage/checkpoints.ts).
    process.env.IMCNAS_FAULT_KILL_IN_CHECKPOINT = marker;
    try {
      const result = (await (await startNasSearch(harness, input)).result()) as SearchResult;
      expect(result.outcome).toBe('complete');
    } finally {
      delete process.env.IMCNAS_FAULT_KILL_IN_CHECKPOINT;
    }
    await expect(fs.stat(marker)).resolves.toBeDefined();
    const chunk = await supernetChunk(input.runDir, 1);
    expect(chunk.globalStep).toBe(20);
    // The torn checkpoint left no trace but its staging directory, which the next save removed.
    const names = await fs.readdir(path.join(input.runDir, 'supernet'));
    expect(names.filter((name) => name.endsWith('.tmp'))).toEqual([]);
    expect((await readTrainLog(input.runDir)).map((line) => line.globalStep)).toEqual(
      Array.from({ length: 20 }, (_, i) => i + 1),
    );
  });

  it('cancelling the workflow stops the training child', async () => {
    const input = harness.input('cancelled', {
      ...TINY,
      supernet: { ...TINY.supernet, epochs: 1000, stepsPerEpoch: 1000, checkpointEverySteps: 1 },
    });
    const handle = await startNasSearch(harness, input);
    const pid = await waitFor(async () => {
      const log = await readTrainLog(input.runDir);
      return log.length >= 3 ? log[log.length - 1].pid : undefined;
    }, 'training to start');
    expect(processAlive(pid)).toBe(true);
    await handle.cancel();
    const error = await handle.result().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WorkflowFailedError);
    expect((error as WorkflowFailedError).cause).toBeInstanceOf(CancelledFailure);
    await waitFor(async () => (processAlive(pid) ? undefined : true), `child ${pid} to exit`, 600_000);
  });
});
