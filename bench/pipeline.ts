/**
 * The whole product as a user meets it: examples/quick.yaml through all four stages on the real dev
 * server (npm run demo's path). Reports the wall time of each stage (from the workflow histories, across
 * continue-as-new runs), the final design's test accuracy under device noise, and the share of wall time
 * spent outside activities (orchestration overhead: scheduling, workflow tasks, continue-as-new).
 */
import * as path from 'node:path';
import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import type { SearchResult } from '../contracts';
import { loadConfigFile } from '../config/load';
import { startSearch, workflowIdFor } from '../client/searches';
import { withInProcessWorkers } from './inProcessSearch';
import type { BenchFigures } from './run';

const EventType = temporal.api.enums.v1.EventType;

const STAGE_OF: Record<string, string> = {
  prepareRun: 'preparing',
  trainSupernetChunk: 'supernet',
  proposeGeneration: 'evolution',
  evaluateCandidates: 'evolution',
  tellGeneration: 'evolution',
  evaluateRobustness: 'robustness',
  retrainCandidate: 'retraining',
  evaluateFinalModel: 'retraining',
  writeResults: 'reporting',
};

interface Interval {
  stage: string;
  start: number;
  end: number;
}

function ms(time: { seconds?: unknown; nanos?: number | null } | null | undefined): number {
  return Number(time?.seconds ?? 0) * 1000 + Math.floor((time?.nanos ?? 0) / 1e6);
}

/** Activity intervals (start → completion) from every run of the search's workflow. */
async function activityIntervals(
  client: Client,
  searchId: string,
): Promise<{ intervals: Interval[]; start: number; end: number }> {
  const intervals: Interval[] = [];
  let start = Infinity;
  let end = 0;
  for await (const execution of client.workflow.list({
    query: `WorkflowId = '${workflowIdFor(searchId)}'`,
  })) {
    const history = await client.workflow.getHandle(execution.workflowId, execution.runId).fetchHistory();
    const scheduled = new Map<string, string>();
    const started = new Map<string, number>();
    for (const event of history.events ?? []) {
      const id = String(event.eventId);
      const time = ms(event.eventTime);
      start = Math.min(start, time);
      end = Math.max(end, time);
      if (event.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED) {
        scheduled.set(id, event.activityTaskScheduledEventAttributes?.activityType?.name ?? '');
      } else if (event.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED) {
        started.set(String(event.activityTaskStartedEventAttributes?.scheduledEventId), time);
      } else if (event.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED) {
        const scheduledId = String(event.activityTaskCompletedEventAttributes?.scheduledEventId);
        const type = scheduled.get(scheduledId) ?? '';
        // The started event is written with the completion (retry semantics), so fall back to scheduling.
        intervals.push({ stage: STAGE_OF[type] ?? type, start: started.get(scheduledId) ?? time, end: time });
      }
    }
  }
  return { intervals, start, end };
}

function unionLength(intervals: Interval[]): number {
  const sorted = [...intervals].sort((a, b) => a.start - b.start);
  let total = 0;
  let [currentStart, currentEnd] = [-Infinity, -Infinity];
  for (const { start, end } of sorted) {
    if (start > currentEnd) {
      if (currentEnd > currentStart) total += currentEnd - currentStart;
      [currentStart, currentEnd] = [start, end];
    } else currentEnd = Math.max(currentEnd, end);
  }
  if (currentEnd > currentStart) total += currentEnd - currentStart;
  return total;
}

export async function run(): Promise<BenchFigures> {
  const config = await loadConfigFile(path.join(__dirname, '..', 'examples', 'quick.yaml'));
  return withInProcessWorkers(config, config.temporal.taskQueuePrefix, async (client) => {
    const wallStart = Date.now();
    const search = await startSearch(client, config, { searchId: `bench-quick-${Date.now().toString(36)}` });
    const result = (await client.workflow.getHandle(search.workflowId).result()) as SearchResult;
    const wall = (Date.now() - wallStart) / 1000;
    const { intervals, start, end } = await activityIntervals(client, search.searchId);
    const stageSeconds: Record<string, number> = {};
    for (const stage of new Set(intervals.map((i) => i.stage))) {
      const own = intervals.filter((i) => i.stage === stage);
      stageSeconds[`stage_${stage}_s`] =
        (Math.max(...own.map((i) => i.end)) - Math.min(...own.map((i) => i.start))) / 1000;
    }
    const final = result.finals[0];
    return {
      config: 'examples/quick.yaml',
      search_id: search.searchId,
      wall_s: wall,
      workflow_span_s: (end - start) / 1000,
      ...stageSeconds,
      outside_activities_share: 1 - unionLength(intervals) / Math.max(1, end - start),
      generations: result.generations,
      evaluations: result.evaluations,
      front_size: result.front.length,
      supernet_val_acc: result.supernetValidationAccuracy,
      final_test_acc_digital: final?.testAccuracyDigital ?? null,
      final_test_acc_mean: final?.testAccuracyMean ?? null,
      final_test_acc_std: final?.testAccuracyStd ?? null,
      final_test_acc_p5: final?.testAccuracyP5 ?? null,
      final_samples: final?.samples ?? null,
      final_design: final?.key ?? null,
      final_edap: final?.hardware.edap ?? null,
      final_tops_per_w: final?.hardware.topsPerWatt ?? null,
    };
  });
}
