/**
 * Stage 4's unit of work: a lane of networks, each retrained chunk by chunk and then tested, resuming where an
 * earlier run of the workflow left off. The lanes' contents (winners, baselines) are workflows/search.ts's.
 */
import { ContinueAsNew, isCancellation, log } from '@temporalio/workflow';
import type { SearchInput } from '../contracts';
import type { Checkpoint } from './continuation';
import { causeOf } from './concurrency';
import type { SearchControls } from './controls';

/** A stage-4 lane: networks retrained and tested in a fixed order, the finished ones and the dropped ones. */
export interface RetrainLane<T> {
  names: string[];
  done: T[];
  dropped: { count(): number; add(): void };
  job(name: string): RetrainJob<T>;
}

/**
 * Retrains and tests a lane's networks in order, from the first one an earlier run did not finish or drop.
 * A failed network is dropped and counted (its problem recorded), and the lane goes on. False when the
 * search was paused out or stopped before the lane's end.
 */
export async function retrainEach<T>(
  input: SearchInput,
  controls: SearchControls,
  checkpoint: Checkpoint,
  lane: RetrainLane<T>,
): Promise<boolean> {
  for (const name of lane.names.slice(lane.done.length + lane.dropped.count())) {
    const job = lane.job(name);
    try {
      const result = await retrainThenTest(input, controls, checkpoint, job);
      if (result === undefined) return false;
      lane.done.push(result);
      job.onDone?.();
    } catch (error) {
      if (isCancellation(error) || error instanceof ContinueAsNew) throw error;
      lane.dropped.add();
      const message = `stage 4: ${job.name} failed: ${causeOf(error)}`;
      log.warn(message);
      controls.problem(message);
    }
    job.epochs.set(0);
    await checkpoint();
  }
  return true;
}

/** One network of stage 4: its name in the stage line and problems (a key or `baseline <name>`), its epoch counter, its two activities. */
export interface RetrainJob<T> {
  name: string;
  epochs: { get(): number; set(epochs: number): void };
  train(untilEpoch: number): Promise<unknown>;
  test(): Promise<T>;
  onDone?(): void;
}

/**
 * Retrains one network chunk by chunk (continuing as new when the history grows), then tests it. Returns
 * undefined when the search was paused out or stopped before the test.
 */
async function retrainThenTest<T>(
  input: SearchInput,
  controls: SearchControls,
  checkpoint: Checkpoint,
  job: RetrainJob<T>,
): Promise<T | undefined> {
  const { retrain } = input.config;
  while (job.epochs.get() < retrain.epochs) {
    if (!(await controls.mayContinue())) return undefined;
    const until = Math.min(job.epochs.get() + retrain.epochsPerActivity, retrain.epochs);
    controls.setStage(
      'retraining',
      `Stage 4/4 — retraining ${job.name}: epochs → ${until} of ${retrain.epochs}`,
    );
    await controls.inWork(() => job.train(until));
    job.epochs.set(until);
    await checkpoint();
  }
  if (controls.stoppedNow()) return undefined;
  return await controls.inWork(() => job.test());
}
