/**
 * Momentum SGD whose state is keyed by variable name, for weight-sharing training.
 *
 * tfjs's own optimizers (tf.train.momentum, adam, …) keep their slots in a list indexed by the position of
 * a variable in each step's gradient map (see MomentumOptimizer.applyGradients in tfjs-core 4.22). A
 * supernet step only has gradients for the sampled path, so positions change from step to step and a slot
 * would be applied to another variable. This optimizer keys slots by name and updates only the variables
 * that received a gradient, like PyTorch's SGD skips parameters whose grad is None — which is what the SPOS
 * reference training does (Guo et al., ECCV 2020: SGD, momentum 0.9, weight decay 4e-5).
 *
 * Update (PyTorch's formulation): g ← g + λ·w (weight decay, on decayed variables only); v ← μ·v + g;
 * w ← w − lr·(g + μ·v) with Nesterov momentum, w ← w − lr·v without.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { NamedTensor } from '../storage/checkpoints';

export interface MomentumSgdOptions {
  momentum: number;
  nesterov: boolean;
  weightDecay: number;
  /** Which variables get weight decay (kernels, not BatchNorm scales/shifts or biases, by convention). */
  decays: (name: string) => boolean;
}

export const DEFAULT_MOMENTUM_SGD: MomentumSgdOptions = {
  momentum: 0.9,
  nesterov: true,
  weightDecay: 4e-5,
  decays: (name) => name.endsWith('/kernel'),
};

export class NamedMomentumSgd {
  private readonly velocity = new Map<string, tf.Variable>();
  readonly options: MomentumSgdOptions;

  constructor(options: Partial<MomentumSgdOptions> = {}) {
    this.options = { ...DEFAULT_MOMENTUM_SGD, ...options };
  }

  /**
   * Applies one update to the named variables that have a gradient; `gradients` maps the same names to
   * gradient tensors (not disposed here).
   */
  apply(
    variables: ReadonlyMap<string, tf.Variable>,
    gradients: ReadonlyMap<string, tf.Tensor>,
    learningRate: number,
  ): void {
    const { momentum, nesterov, weightDecay, decays } = this.options;
    for (const [name, gradient] of gradients) {
      const variable = variables.get(name);
      if (!variable) throw new Error(`NamedMomentumSgd: gradient for unknown variable ${name}`);
      let velocity = this.velocity.get(name);
      if (!velocity) {
        velocity = tf.tidy(() => tf.variable(tf.zerosLike(variable), false));
        this.velocity.set(name, velocity);
      }
      const slot = velocity;
      tf.tidy(() => {
        const decayed =
          weightDecay > 0 && decays(name) ? tf.add(gradient, tf.mul(variable, weightDecay)) : gradient;
        const nextVelocity = tf.add(tf.mul(slot, momentum), decayed);
        const direction = nesterov ? tf.add(decayed, tf.mul(nextVelocity, momentum)) : nextVelocity;
        slot.assign(nextVelocity);
        variable.assign(tf.sub(variable, tf.mul(direction, learningRate)));
      });
    }
  }

  /** Variables that have a velocity slot (those that received a gradient at least once). */
  get slotCount(): number {
    return this.velocity.size;
  }

  /** The optimizer slots as named tensors (for checkpoints), keyed `<variable>/velocity`. */
  snapshot(): Map<string, NamedTensor> {
    const out = new Map<string, NamedTensor>();
    for (const [name, slot] of this.velocity) {
      out.set(`${name}/velocity`, { shape: slot.shape, data: slot.dataSync() as Float32Array });
    }
    return out;
  }

  /** Replaces every slot with the saved ones (a variable without a saved slot starts at zero velocity). */
  restore(saved: ReadonlyMap<string, NamedTensor>): void {
    this.dispose();
    for (const [key, tensor] of saved) {
      if (!key.endsWith('/velocity')) throw new Error(`NamedMomentumSgd: unexpected slot ${key}`);
      const name = key.slice(0, -'/velocity'.length);
      this.velocity.set(
        name,
        tf.tidy(() => tf.variable(tf.tensor(tensor.data, tensor.shape), false)),
      );
    }
  }

  dispose(): void {
    for (const slot of this.velocity.values()) slot.dispose();
    this.velocity.clear();
  }
}
