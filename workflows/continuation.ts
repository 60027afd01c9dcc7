/**
 * When a search's run continues as new: past a bound on its history, with nothing in flight, carrying its
 * state. Stage 4's lanes, which run side by side, continue together.
 */
import { allHandlersFinished, condition, continueAsNew, workflowInfo } from '@temporalio/workflow';
import type { CarriedState, SearchInput, SearchResult } from '../contracts';
import type { SearchControls } from './controls';

/**
 * Continue as new past this many history events, whatever the server suggests: far below the server's
 * hard limit (50k) and the 10k at which replays and the Web UI slow down, and cheap (the carried state is
 * small). Checked between generations and between retraining chunks.
 */
const HISTORY_EVENTS_PER_RUN = 2_000;

/** Where a stage-4 lane may continue as new: between chunks, with none of its activities in flight. */
export type Checkpoint = () => Promise<void>;

function historyIsLong(): boolean {
  const info = workflowInfo();
  return info.continueAsNewSuggested || info.historyLength > HISTORY_EVENTS_PER_RUN;
}

export async function continueIfHistoryIsLong(input: SearchInput, state: CarriedState): Promise<void> {
  if (historyIsLong()) await continueWith(input, state);
}

/**
 * Stage 4's lanes (the winners, the baselines) run side by side, each a sequence of retraining chunks and
 * one test. A run may only continue as new with nothing in flight, so a lane that finds the history long
 * waits at its checkpoint until every other lane has reached one too (or finished); then the run continues
 * as new carrying every lane's position (finals, baselines and their epoch counters live in `state`).
 */
export class LanesContinuingTogether {
  private waiting = 0;
  private continuing: Promise<never> | undefined;

  constructor(
    private readonly input: SearchInput,
    private readonly state: CarriedState,
    private readonly controls: SearchControls,
    private live: number,
  ) {}

  async run(lane: (checkpoint: Checkpoint) => Promise<void>): Promise<void> {
    try {
      await lane(() => this.checkpoint());
    } finally {
      this.live -= 1;
    }
  }

  private async checkpoint(): Promise<void> {
    if (!historyIsLong()) return;
    this.waiting += 1;
    await condition(() => this.waiting >= this.live || this.controls.stoppedNow());
    this.waiting -= 1;
    // A stop-now ends the search with what it has; the other lane's cancellation carries it to finish().
    if (this.controls.stoppedNow()) return;
    // Every waiting lane wakes at once; one continuation serves them all.
    this.continuing ??= continueWith(this.input, this.state);
    await this.continuing;
  }
}

export async function continueWith(input: SearchInput, state: CarriedState): Promise<never> {
  // Nothing is in flight here; let update handlers finish so no caller loses its answer.
  await condition(allHandlersFinished);
  state.progress.continuedAsNew += 1;
  return continueAsNew<(input: SearchInput, carried?: CarriedState) => Promise<SearchResult>>(input, state);
}
