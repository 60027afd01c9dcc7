/**
 * The domain's choices of which designs move on (search/frontPolicy.ts), as activities: the workflow records
 * their answers in its history, so a later change of policy never changes what a running search replays.
 */
import type { ChooseForRetrainingInput, ChooseForRobustnessInput } from '../contracts';
import { frontForRobustness, retrainingOrder } from '../search/frontPolicy';

/** Up to robustness.topK front members, spread along the front from the best by the first objective. */
export async function chooseForRobustness({
  config,
  front,
}: ChooseForRobustnessInput): Promise<Array<{ key: string; genome: number[] }>> {
  return frontForRobustness(front, config.objectives, config.robustness.topK);
}

/** The keys stage 4 retrains, in the order it retrains them (retrain.count, retrain.choose). */
export async function chooseForRetraining({
  config,
  front,
  robust,
}: ChooseForRetrainingInput): Promise<string[]> {
  return retrainingOrder(robust, front, config.objectives, config.retrain);
}
