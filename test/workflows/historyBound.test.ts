/**
 * Bounded history, on the fast tier's harness (standInSearch.ts): a retraining of hundreds of chunks
 * continues as new so that no run of the workflow's chain grows past 10,000 events, with the real
 * threshold of workflows/search.ts. Its own file because it needs thousands of events (about a minute).
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { SearchResult } from '../../contracts';
import { BASE, runSearch, startStandInEnvironment, stopStandInEnvironment, type Run } from './standInSearch';

jest.setTimeout(900_000);

let env: TestWorkflowEnvironment;
beforeAll(async () => {
  env = await startStandInEnvironment();
});
afterAll(stopStandInEnvironment);

describe("the search workflow's history", () => {
  it('a long retraining (a winner, then a baseline) continues as new so no run exceeds 10,000 history events', async () => {
    const { outcome, handle, log } = await runSearch({
      ...BASE,
      evolution: { ...BASE.evolution, generations: 1 },
      robustness: { topK: 1, samples: 2 },
      // 400 one-epoch chunks each: about 2,400 history events per design in one run without continue-as-new.
      retrain: { count: 1, epochs: 400, epochsPerActivity: 1 },
      baseline: { networks: ['vgg'] },
    });
    const result = outcome as SearchResult;
    expect(result.outcome).toBe('complete');
    expect(result.finals).toHaveLength(1);
    // The baseline's epochs carried across the runs: every chunk once, then one test.
    expect(result.baselines?.map((b) => b.key)).toEqual(['baseline-vgg']);
    expect(log.calls).toMatchObject({ retrainBaseline: 400, evaluateBaseline: 1 });
    // Every run of the chain (newest to first) stays under the bound.
    let runId: string | undefined = (await handle.describe()).runId;
    const lengths: number[] = [];
    while (runId) {
      const run: Run['handle'] = env.client.workflow.getHandle(handle.workflowId, runId);
      const history: Awaited<ReturnType<Run['handle']['fetchHistory']>> = await run.fetchHistory();
      lengths.push(history.events?.length ?? 0);
      const first: { continuedExecutionRunId?: string | null } | null | undefined =
        history.events?.[0]?.workflowExecutionStartedEventAttributes;
      runId = first?.continuedExecutionRunId ?? undefined;
    }
    expect(lengths.length).toBeGreaterThanOrEqual(2);
    for (const length of lengths) expect(length).toBeLessThan(10_000);
    expect(log.calls.retrainCandidate).toBe(400);
  });
});
