/**
 * The fast workflow tier: the real workflow code on a local Temporal test server with the activities
 * replaced by small deterministic stand-ins (standInSearch.ts). Covers the orchestration logic that real
 * training makes slow to reach: stop now, pause/resume, failed evaluations and explicit outcomes, and the
 * result object. The bound on history length, which needs thousands of events, is historyBound.test.ts.
 */
import { WorkflowFailedError } from '@temporalio/client';
import type { SearchProgress, SearchResult } from '../../contracts';
import {
  BASE,
  opened,
  runSearch,
  startStandInEnvironment,
  stopStandInEnvironment,
  until,
} from './standInSearch';

jest.setTimeout(900_000);

beforeAll(startStandInEnvironment);
afterAll(stopStandInEnvironment);

describe('the search workflow with stand-in activities', () => {
  it('runs the four stages and builds the result once, marked complete', async () => {
    const { outcome, log } = await runSearch(BASE);
    const result = outcome as SearchResult;
    expect(result.outcome).toBe('complete');
    expect(result.dropped).toEqual({ candidates: 0, robustness: 0, finals: 0 });
    expect(result.generations).toBe(2);
    expect(result.robust).toHaveLength(3);
    expect(result.finals).toHaveLength(2);
    // Stage 3 took the best and two more spread along the front; the two most robust were retrained.
    expect(result.robust.map((r) => r.key)).toEqual(['g1c3', 'g1c1', 'g1c0']);
    expect(result.finals.map((f) => f.key)).toEqual(['g1c3', 'g1c1']);
    expect(log.calls).toMatchObject({ trainSupernetChunk: 2, retrainCandidate: 4, writeResults: 1 });
    // The designs that move on are chosen by the domain's policy, asked once per stage through activities.
    expect(log.calls).toMatchObject({ chooseForRobustness: 1, chooseForRetraining: 1 });
    expect(log.written?.outcome).toBe('complete');
    // No baseline section (as in every input recorded before baselines existed): none is scheduled.
    expect(result.baselines).toBeUndefined();
    expect(log.calls.retrainBaseline).toBeUndefined();
  });

  it('retrains the cheapest design within the tolerance of the best noisy accuracy when asked to', async () => {
    const { outcome } = await runSearch({
      ...BASE,
      retrain: { count: 1, epochs: 2, choose: 'cheapest-near-best', accuracyTolerance: 0.1 },
    });
    const result = outcome as SearchResult;
    // Noisy means 0.52 (g1c3, EDAP 4e-9), 0.44 (g1c1, 2e-9), 0.40 (g1c0, 1e-9): g1c0 is cheapest but
    // 0.12 below the best, so g1c1 is retrained, where most-accurate would take g1c3.
    expect(result.robust.map((r) => r.key)).toEqual(['g1c3', 'g1c1', 'g1c0']);
    expect(result.finals.map((f) => f.key)).toEqual(['g1c1']);
  });

  it('schedules the hand-designed baselines in stage 4, beside the finals, and reports them', async () => {
    const { outcome, log } = await runSearch({ ...BASE, baseline: { networks: ['vgg', 'resnet'] } });
    const result = outcome as SearchResult;
    expect(result.outcome).toBe('complete');
    expect(result.finals).toHaveLength(2);
    expect(result.baselines?.map((b) => b.key)).toEqual(['baseline-vgg', 'baseline-resnet']);
    // The same retraining recipe as the finals: retrain.epochs in chunks of retrain.epochsPerActivity.
    expect(log.calls).toMatchObject({ retrainCandidate: 4, retrainBaseline: 4, evaluateBaseline: 2 });
    expect(log.written?.baselines?.map((b) => b.name)).toEqual(['vgg', 'resnet']);
  });

  it('stage 4 retrains a winner and a baseline side by side, not one after the other', async () => {
    // The winner's first chunk holds until the baseline's first chunk has started: in the old sequential
    // order it never would, and the held chunk gives up after a minute so the failure is a failed
    // expectation, not a hung test.
    const baselineStarted = opened();
    let sawBaselineWhileWinnerRan = false;
    const { outcome } = await runSearch(
      { ...BASE, retrain: { count: 1, epochs: 2 }, baseline: { networks: ['vgg'] } },
      {
        onRetrain: async (key, untilEpoch) => {
          if (key.startsWith('baseline-')) baselineStarted.open();
          else if (untilEpoch === 1) {
            let timer: NodeJS.Timeout | undefined;
            sawBaselineWhileWinnerRan = await Promise.race([
              baselineStarted.promise.then(() => true),
              new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), 60_000))),
            ]);
            clearTimeout(timer);
          }
        },
      },
    );
    const result = outcome as SearchResult;
    expect(result.outcome).toBe('complete');
    expect(sawBaselineWhileWinnerRan).toBe(true);
    expect(result.finals).toHaveLength(1);
    expect(result.baselines?.map((b) => b.key)).toEqual(['baseline-vgg']);
  });

  it('a failed baseline is dropped and counted: the search completes flagged partial', async () => {
    const { outcome } = await runSearch(
      { ...BASE, baseline: { networks: ['vgg', 'resnet'] } },
      { failingBaselines: (name) => name === 'vgg' },
    );
    const result = outcome as SearchResult;
    expect(result.outcome).toBe('partial');
    expect(result.dropped.baselines).toBe(1);
    expect(result.baselines?.map((b) => b.name)).toEqual(['resnet']);
    expect(result.problems).toEqual([
      expect.stringMatching(/stage 4: baseline vgg failed: baseline vgg failed/),
    ]);
  });

  it('stop now during stage 4 keeps the finished stage-3 results and finals', async () => {
    const gate = opened();
    const { outcome } = await runSearch(
      BASE,
      // The second winner's first retraining chunk waits until the stop has been sent.
      { onRetrain: (key) => (key === 'g1c1' ? gate.promise : undefined) },
      async ({ handle, log }) => {
        await until(async () => (log.calls.retrainCandidate ?? 0) >= 3);
        await handle.executeUpdate('stop', { args: [{ mode: 'now' }] });
        gate.open();
      },
    );
    const result = outcome as SearchResult;
    expect(result.outcome).toBe('stopped');
    expect(result.stoppedEarly).toBe('now');
    expect(result.robust).toHaveLength(3);
    expect(result.finals.map((f) => f.key)).toEqual(['g1c3']);
  });

  it('a stage whose every evaluation fails fails the search, naming the cause', async () => {
    const { outcome } = await runSearch(BASE, { failingRobustness: () => true });
    expect(outcome).toBeInstanceOf(WorkflowFailedError);
    const cause = (outcome as WorkflowFailedError).cause as Error & { type?: string };
    expect(cause.type).toBe('StageFailedError');
    expect(cause.message).toMatch(/stage 3 \(robustness\): all 3 evaluations failed/);
    expect(cause.message).toMatch(/simulated chip failure of g1c/);
  });

  it('a generation whose every candidate fails fails the search', async () => {
    const { outcome } = await runSearch(BASE, { failingCandidates: () => true });
    expect(outcome).toBeInstanceOf(WorkflowFailedError);
    expect(((outcome as WorkflowFailedError).cause as Error).message).toMatch(
      /generation 1\/2: every candidate evaluation failed[\s\S]*simulated evaluation failure of g0c3/,
    );
  });

  it('failures within the tolerance complete the search flagged partial, counted and explained', async () => {
    const { outcome, log } = await runSearch(BASE, {
      failingCandidates: (key) => key === 'g0c1',
      failingRobustness: (key) => key === 'g1c3',
    });
    const result = outcome as SearchResult;
    expect(result.outcome).toBe('partial');
    expect(result.dropped).toEqual({ candidates: 1, robustness: 1, finals: 0 });
    expect(result.problems).toEqual([
      expect.stringMatching(/generation 1\/2: candidates g0c1 failed .*simulated evaluation failure of g0c1/),
      expect.stringMatching(/stage 3: robustness of g1c3 failed: simulated chip failure of g1c3/),
    ]);
    expect(result.robust).toHaveLength(2);
    expect(log.written).toMatchObject({ outcome: 'partial', dropped: result.dropped });
  });

  it('failures beyond failures.maxDroppedShare fail the search', async () => {
    const { outcome } = await runSearch(
      { ...BASE, failures: { maxDroppedShare: 0.2 } },
      { failingRobustness: (key) => key === 'g1c3' },
    );
    expect(((outcome as WorkflowFailedError).cause as Error).message).toMatch(
      /1 of 3 evaluations failed, more than failures.maxDroppedShare = 0.2/,
    );
  });

  it('pause holds new work until resume', async () => {
    const gate = opened();
    const { outcome, log } = await runSearch(
      BASE,
      { onSupernetChunk: (epoch) => (epoch === 1 ? gate.promise : undefined) },
      async ({ handle, log }) => {
        await until(async () => (log.calls.trainSupernetChunk ?? 0) === 1);
        await handle.executeUpdate('pause');
        gate.open();
        // The chunk in flight finishes; nothing new starts while paused, however long we look.
        await until(async () => (await handle.query<SearchProgress>('progress')).epochsCompleted === 1);
        await new Promise((resolve) => setTimeout(resolve, 300));
        expect(log.calls.trainSupernetChunk).toBe(1);
        expect((await handle.query<SearchProgress>('progress')).paused).toBe(true);
        await handle.executeUpdate('resume');
      },
    );
    expect((outcome as SearchResult).outcome).toBe('complete');
    expect(log.calls.trainSupernetChunk).toBe(2);
  });
});
