/**
 * The search's live state and its controls: the progress the `progress` query answers, the pause/resume/
 * stop updates (signals as a fallback), the stage shown in the Web UI, and the cancellation scope a
 * stop-now cancels. The workflow's stages ask it whether they may go on; they never touch the handlers.
 */
import {
  CancellationScope,
  condition,
  defineQuery,
  defineSignal,
  defineUpdate,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { SearchInput, SearchProgress, Stage, StopMode, StopRequest } from '../contracts';
import { STAGE } from './searchAttributes';

export const progressQuery = defineQuery<SearchProgress>('progress');
export const pauseUpdate = defineUpdate<SearchProgress>('pause');
export const resumeUpdate = defineUpdate<SearchProgress>('resume');
export const stopUpdate = defineUpdate<SearchProgress, [StopRequest]>('stop');
// Signals as a fallback for clients that cannot send updates.
export const pauseSignal = defineSignal('pause-signal');
export const resumeSignal = defineSignal('resume-signal');
export const stopSignal = defineSignal<[StopRequest]>('stop-signal');

/** At most this many problem lines are kept (and carried across continue-as-new). */
const MAX_PROBLEMS = 50;

export function initialProgress(input: SearchInput): SearchProgress {
  const { config } = input;
  return {
    searchId: input.searchId,
    stage: 'preparing',
    startedAt: workflowInfo().startTime.toISOString(),
    epochsCompleted: 0,
    epochsTotal: config.supernet.epochs,
    supernetValidationAccuracy: null,
    generation: 0,
    generationsTotal: config.evolution.generations,
    evaluated: 0,
    evaluating: 0,
    evaluationsTotal: 0,
    objectives: config.objectives.map((objective) => objective.metric),
    front: [],
    bestAccuracy: null,
    bestEdap: null,
    robustDone: 0,
    robustTotal: 0,
    retrained: 0,
    retrainTotal: 0,
    paused: false,
    stopRequested: null,
    etaSeconds: null,
    continuedAsNew: 0,
    dropped: { candidates: 0, robustness: 0, finals: 0 },
    problems: [],
  };
}

export class SearchControls {
  /** Cancelled when the user asks to stop now: every activity in flight runs inside it. */
  private readonly work = new CancellationScope();

  constructor(
    readonly progress: SearchProgress,
    private readonly searchId: string,
  ) {
    // A run carried over from before these fields existed.
    progress.dropped ??= { candidates: 0, robustness: 0, finals: 0 };
    progress.problems ??= [];
    setHandler(progressQuery, () => this.progress);
    setHandler(pauseUpdate, () => this.pause(), { validator: () => this.rejectWhenFinished() });
    setHandler(resumeUpdate, () => this.resume(), {
      validator: () => {
        this.rejectWhenFinished();
        if (!this.progress.paused) throw new Error('the search is not paused');
      },
    });
    setHandler(stopUpdate, (request) => this.stop(request), {
      validator: (request: StopRequest) => {
        this.rejectWhenFinished();
        if (request?.mode !== 'now' && request?.mode !== 'after-generation') {
          throw new Error(
            `stop mode must be "now" or "after-generation", got ${JSON.stringify(request?.mode)}`,
          );
        }
      },
    });
    setHandler(pauseSignal, () => void this.pause());
    setHandler(resumeSignal, () => void this.resume());
    setHandler(stopSignal, (request) => void this.stop(request ?? { mode: 'after-generation' }));
  }

  private pause(): SearchProgress {
    this.progress.paused = true;
    setCurrentDetails(
      `Paused during ${this.progress.stage}: work in flight finishes, nothing new starts. Resume with \`imcnas resume ${this.searchId}\`.`,
    );
    return this.progress;
  }

  private resume(): SearchProgress {
    this.progress.paused = false;
    return this.progress;
  }

  private stop({ mode }: StopRequest): SearchProgress {
    const now = mode === 'now' || this.progress.stopRequested === 'now';
    this.progress.stopRequested = (now ? 'now' : 'after-generation') satisfies StopMode;
    this.progress.paused = false;
    if (now) this.work.cancel();
    return this.progress;
  }

  private rejectWhenFinished(): void {
    if (this.progress.stage === 'done' || this.progress.stage === 'reporting')
      throw new Error('the search has finished');
  }

  setStage(stage: Stage, details: string): void {
    this.progress.stage = stage;
    upsertSearchAttributes([{ key: STAGE, value: stage }]);
    setCurrentDetails(details);
  }

  /** Waits while paused; false when the user asked to stop now. */
  async mayContinue(): Promise<boolean> {
    await condition(() => !this.progress.paused || this.progress.stopRequested !== null);
    return this.progress.stopRequested !== 'now';
  }

  /** A method, not a field: handlers change the flag while the workflow awaits. */
  stoppedNow(): boolean {
    return this.progress.stopRequested === 'now';
  }

  /** Runs `fn` inside the scope a stop-now cancels. */
  inWork<T>(fn: () => Promise<T>): Promise<T> {
    return this.work.run(fn);
  }

  /** Records something the user must know about the outcome (a dropped evaluation and its cause). */
  problem(message: string): void {
    if (this.progress.problems.length < MAX_PROBLEMS) this.progress.problems.push(message);
  }
}
