/**
 * Bulk random numbers for the noise models: whole Float32Arrays of standard normals and Bernoulli draws
 * from the project's seeded generator (common/rng.ts), so a Monte-Carlo chip is reproducible from its seed
 * on every machine. Sampling noise for a chip touches every cell and, for per-read noise, every column
 * read, so these loops are the noise models' hot path: Marsaglia's polar method yields two normals per
 * accepted pair without trigonometry.
 */
import { Rng, deriveSeed } from '../../common/rng';

// `Math` bound once per module: under jest's sandbox every lookup of a global goes through its
// global-object wrapper, ~100× slower in the hot loops; a module constant is a plain reference.
const math = Math;

/** Fills `out` with independent N(0, 1) draws from `rng` (Marsaglia polar method). */
export function fillStandardNormal(rng: Rng, out: Float32Array): Float32Array {
  const n = out.length;
  let i = 0;
  while (i < n) {
    let u: number;
    let v: number;
    let s: number;
    do {
      u = 2 * rng.next() - 1;
      v = 2 * rng.next() - 1;
      s = u * u + v * v;
    } while (s >= 1 || s === 0);
    const factor = math.sqrt((-2 * math.log(s)) / s);
    out[i++] = u * factor;
    if (i < n) out[i++] = v * factor;
  }
  return out;
}

/** A fresh array of `count` standard normals. */
export function standardNormals(rng: Rng, count: number): Float32Array {
  return fillStandardNormal(rng, new Float32Array(count));
}

/**
 * Indices of the cells hit by an event of probability `p` among `count` cells, drawn by geometric skips
 * (cost proportional to the number of hits, not to `count`: stuck-at rates are 0.01–10 %).
 */
export function bernoulliIndices(rng: Rng, count: number, p: number): number[] {
  const hits: number[] = [];
  if (!(p > 0) || count <= 0) return hits;
  if (p >= 1) {
    for (let i = 0; i < count; i++) hits.push(i);
    return hits;
  }
  const logQ = math.log1p(-p);
  let index = -1;
  for (;;) {
    let u = rng.next();
    while (u === 0) u = rng.next();
    index += 1 + math.floor(math.log(u) / logQ);
    if (index >= count) return hits;
    hits.push(index);
  }
}

/** A generator for one named purpose of one chip instance: seed → labels, as everywhere in imcnas. */
export function streamFor(seed: number, ...labels: Array<string | number>): Rng {
  return new Rng(deriveSeed(seed, ...labels));
}
