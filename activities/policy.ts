/**
 * The domain's choices of which designs move on (search/frontPolicy.ts), as activities: the workflow records
 * their answers in its history, so a later change of policy never changes what a running search replays.
 */
import type { ChooseForRetrainingInput, ChooseForRobustnessInput } from '../contracts';
import { frontForRobustness, hardwareCostOf, winnersForRetraining } from '../search/frontPolicy';

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
  const winners = winnersForRetraining(robust, config.retrain.count, {
    // Configs recorded before retrain.choose existed have neither field: they keep most-accurate.
    choose: config.retrain.choose ?? 'most-accurate',
    accuracyTolerance: config.retrain.accuracyTolerance ?? 0.01,
    costOf: hardwareCostOf(front, config.objectives),
  });
  return winners.map(({ key }) => key);
}
