/**
 * Seeded, splittable pseudo-random numbers. Every random choice in imcnas flows from the search seed
 * through named derivations (search → generation → candidate → Monte-Carlo sample), so the same config
 * and seed reproduce the same search on any machine, whichever worker runs which activity.
 *
 * The generator is sfc32 (Chris Doty-Humphrey's PractRand "small fast chaotic" generator, 128-bit state);
 * seeds are derived by hashing (seed, label...) with a 32-bit FNV-1a / murmur3-finalizer mix.
 */

function mix32(h: number): number {
  // murmur3 fmix32: spreads every input bit over the word.
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** A 32-bit seed derived from a parent seed and any labels; stable across platforms and runs. */
export function deriveSeed(seed: number, ...labels: Array<string | number>): number {
  let h = mix32((seed >>> 0) ^ 0x9e3779b9);
  for (const label of labels) {
    const text = String(label);
    for (let i = 0; i < text.length; i++) {
      h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0; // FNV-1a step
    }
    h = mix32(h ^ 0x2f); // separator so ('ab','c') differs from ('a','bc')
  }
  return h >>> 0;
}

export interface RngState {
  s: [number, number, number, number];
}

export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number) {
    this.a = deriveSeed(seed, 'a');
    this.b = deriveSeed(seed, 'b');
    this.c = deriveSeed(seed, 'c');
    this.d = 1;
    for (let i = 0; i < 12; i++) this.nextUint32(); // warm-up, as sfc32's author recommends
  }

  static fromState(state: RngState): Rng {
    const rng = new Rng(0);
    [rng.a, rng.b, rng.c, rng.d] = state.s;
    return rng;
  }

  /** The whole state as small JSON, so a checkpoint can resume the exact stream. */
  state(): RngState {
    return { s: [this.a, this.b, this.c, this.d] };
  }

  nextUint32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.nextUint32() / 4294967296;
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    if (!Number.isInteger(n) || n <= 0)
      throw new RangeError(`Rng.int: n must be a positive integer, got ${n}`);
    return Math.floor(this.next() * n);
  }

  /** Standard normal via Box–Muller (one value per call; simplicity over speed). */
  normal(): number {
    let u = 0;
    while (u === 0) u = this.next();
    const v = this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  /** Fisher–Yates shuffle in place. */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      [items[i], items[j]] = [items[j], items[i]];
    }
    return items;
  }
}
