/**
 * Zod schema of NoiseSettings overrides for run configs (e.g. `robustness.noise`): every field optional
 * (DEVICE_NOISE fills the rest), unknown keys rejected so a typo never silently becomes a default. The
 * cross-field rules (a σ override with a polynomial model, …) are checked by validateNoiseSettings when
 * the chip resolves the settings.
 */
import { z } from 'zod';

const scale = (what: string) => z.number().min(0).max(100).describe(what);
const fraction = (what: string) => z.number().min(0).max(1).describe(what);

export const NoiseSettingsSchema = z
  .strictObject({
    model: z
      .enum(['device', 'aihwkit-pcm', 'aihwkit-reram-wan2022', 'gaussian', 'lognormal'])
      .describe("conductance noise model; 'device' = the device library's choice"),
    programmingScale: scale('multiplies programming noise (0 = off)'),
    programmingSigma: fraction(
      'σ of the gaussian (fraction of the range) or lognormal (σ of ln g) model',
    ).nullable(),
    writeVerify: z.boolean().describe("programmed with write-verify (the device's verified σ)"),
    readNoiseScale: scale('multiplies read noise (per read; PCM: accumulated 1/f)'),
    readNoiseSigma: fraction('per-read σ of one cell, fraction of the range').nullable(),
    driftScale: scale('multiplies drift exponents ν (0 = no drift)'),
    driftCompensation: z.boolean().describe('global drift compensation (aihwkit)'),
    stuckAtScale: scale("multiplies the device's stuck-at rates"),
    stuckAtZeroRate: fraction('fraction of cells stuck at Gmin').nullable(),
    stuckAtOneRate: fraction('fraction of cells stuck at Gmax').nullable(),
    stuckCompensation: z
      .boolean()
      .describe(
        'write-verify finds stuck cells and programs the other cell of their differential pair to keep the pair’s difference',
      ),
    outputNoise: z
      .number()
      .min(0)
      .max(10)
      .nullable()
      .describe('column-read output noise, aihwkit out_noise units'),
    outputNoiseScale: scale('multiplies output noise'),
    onOffRatio: z.number().gt(1).nullable().describe("Ron/Roff override; null = the device's"),
    idealAdc: z.boolean().describe('no ADC quantization or clipping'),
    adcRange: z.enum(['percentile', 'mse']).describe('how ADC ranges are calibrated'),
    adcRangePercentile: z
      .number()
      .gt(0)
      .max(100)
      .describe('percentile of |partial sum| the ADC range covers'),
  })
  .partial();

export type NoiseSettingsInput = z.input<typeof NoiseSettingsSchema>;
