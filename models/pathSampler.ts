/**
 * Uniform single-path sampling (SPOS, Guo et al., ECCV 2020 §3.2): every training step trains one path
 * drawn uniformly from the search space, so all choices get an equal share of the shared weights' updates.
 * The path of step s depends only on (seed, s): a resumed run, a retried activity or another machine draws
 * the same path for the same step, with no sampler state to checkpoint.
 *
 * Paths are whole decoded candidates: the network genes and the quantization genes both matter (each path
 * trains at its own bit widths). The hardware genes are drawn too (sampleGenome draws whole genomes) but the
 * supernet ignores them.
 */
import { Rng, deriveSeed } from '../common/rng';
import { decode, type Candidate, type Genome } from '../search/space/codec';
import { genomeKey } from '../search/space/keys';
import { sampleGenome } from '../search/space/sampling';
import type { SearchSpace } from '../search/space/schema';

export class PathSampler {
  constructor(
    readonly space: SearchSpace,
    readonly seed: number,
  ) {}

  /** The genome of step `step`: sampleGenome(space, Rng(deriveSeed(seed, 'path', step))). */
  genomeForStep(step: number): Genome {
    if (!Number.isInteger(step) || step < 0) {
      throw new RangeError(`step must be a non-negative integer, got ${step}`);
    }
    return sampleGenome(this.space, new Rng(deriveSeed(this.seed, 'path', step)));
  }

  /** The decoded candidate of step `step`. */
  pathForStep(step: number): Candidate {
    return decode(this.space, this.genomeForStep(step));
  }

  /** A compact description for logs. */
  describeStep(step: number): string {
    return genomeKey(this.genomeForStep(step));
  }
}
