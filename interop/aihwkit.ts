/**
 * Export of a found design to IBM's Analog Hardware Acceleration Kit (aihwkit 1.2.0, PyPI `aihwkit`), so a
 * researcher can rebuild the design as an aihwkit analog model (AnalogConv2d / AnalogLinear with an
 * InferenceRPUConfig), program it, let it drift and test it. The directory written holds:
 *   model.onnx    the network (models/onnx/export.ts): topology, folded weights, each layer's input Clip
 *   aihwkit.json  the RPU configuration mapped from the design (noise model, drift compensation, forward
 *                 IOParameters, tile sizes), each layer's integer-level weight grid (per-channel scales,
 *                 input step), the drift times, the mapping table and what aihwkit cannot express
 * bench/peers/aihwkit/run.py (a peer of the benchmarks, not part of the product) reads the two and runs them
 * in aihwkit; docs/aihwkit-export.md explains each mapped field with the aihwkit source that defines it.
 *
 * Why the levels and not the real weights go to the tiles: imcnas programs a weight's integer level L onto
 * its cells, the level's full range 2^(b−1) − 1 at Gmax, and applies the per-channel scale digitally
 * (hardware/analog/encoding.ts). aihwkit's SinglePairConductanceConverter maps the tile's largest |w| to
 * g_max (aihwkit inference/converter/conductance.py), so tiles holding the levels, with the scale and the
 * bias applied digitally after the tile, store the same conductances as imcnas's cells whenever the tile
 * holds a weight at the top level (the quantizer's per-channel scale puts one in every channel).
 */
import * as path from 'node:path';
import type { FoldedNetwork } from '../models/folded';
import { foldedNetworkToOnnx } from '../models/onnx/export';
import { ONNX_MODEL_FILE } from '../storage/runLayout';
import { writeFileAtomic, writeJsonAtomic } from '../storage/atomic';
import type { DeviceParams } from '../hardware/devices';
import type { HardwareLibrary } from '../hardware/library';
import { DEFAULT_LIBRARY, getDevice } from '../hardware/library';
import {
  DEVICE_NOISE,
  PCM_GMAX_REFERENCE_US,
  PCM_T0_S,
  PCM_T_READ_S,
  RERAM_GMAX_REFERENCE_US,
  resolveCellNoiseForDevice,
  validateNoiseSettings,
  type CellNoiseModel,
  type NoiseSettings,
} from '../hardware/noise';
import { sliceLayout } from '../hardware/analog/encoding';
import type { HardwareConfig } from '../hardware/types';

export const AIHWKIT_TARGET = {
  version: '1.2.0',
  pypi: 'aihwkit==1.2.0',
  repository: 'https://github.com/IBM/aihwkit',
} as const;

export const AIHWKIT_CONFIG_FILE = 'aihwkit.json';

/** The export cannot be written as asked; each problem names the field and the fix. */
export class AihwkitExportError extends Error {
  override name = 'AihwkitExportError';
  constructor(readonly problems: string[]) {
    super(problems.join('; '));
  }
}

/** One row of the mapping table: an imcnas field, its value, and the aihwkit parameter it sets. */
export interface AihwkitMappingRow {
  imcnas: string;
  value: string | number | boolean | null;
  aihwkit: string;
  aihwkitValue: string | number | boolean | null;
  /** The aihwkit source file that defines the parameter's meaning. */
  source: string;
}

/** A noise model as run.py builds it: the aihwkit class and its keyword arguments. */
export interface AihwkitNoiseModel {
  class: 'PCMLikeNoiseModel' | 'ReRamWan2022NoiseModel' | 'StateIndependentNoiseModel';
  kwargs: Record<string, number>;
  /** SinglePairConductanceConverter(g_max, g_min) in µS. */
  g_converter: { class: 'SinglePairConductanceConverter'; g_max: number; g_min: number };
}

/** What run.py turns into an InferenceRPUConfig (field names as aihwkit spells them). */
export interface AihwkitRpuConfig {
  class: 'InferenceRPUConfig';
  noise_model: AihwkitNoiseModel;
  drift_compensation: 'GlobalDriftCompensation' | null;
  forward: {
    is_perfect: boolean;
    inp_res: number;
    inp_bound: number;
    out_res: number;
    out_bound: number;
    out_noise: number;
    w_noise: number;
    w_noise_type: 'NONE' | 'ADDITIVE_CONSTANT';
    noise_management: 'ABS_MAX';
    bound_management: 'ITERATIVE';
  };
  mapping: { digital_bias: boolean; max_input_size: number; max_output_size: number };
}

/** One weight layer as run.py replaces its ONNX Conv/Gemm node. */
export interface AihwkitLayer {
  /** The ONNX node (Conv or Gemm) of the layer; its Clip is `<name>.input_clip`. */
  name: string;
  kind: 'conv' | 'depthwise' | 'dense';
  weightBits: number;
  activationBits: number;
  /** Largest integer weight level, 2^(b−1) − 1: the ONNX weight / weightScale[channel] is an integer in ±maxLevel. */
  maxLevel: number;
  weightScale: number[];
  /** The input grid: levels = clip(round(x / inputStep), lowest, highest). */
  inputStep: number;
  inputSigned: boolean;
  inputLevels: { lowest: number; highest: number };
}

export interface AihwkitConfigFile {
  format: 'imcnas-aihwkit/1';
  aihwkit: typeof AIHWKIT_TARGET;
  source: Record<string, unknown>;
  hardware: HardwareConfig;
  noise: NoiseSettings;
  model: string;
  inputShape: number[];
  driftSeconds: number[];
  rpuConfig: AihwkitRpuConfig;
  layers: AihwkitLayer[];
  mapping: AihwkitMappingRow[];
  cannotMap: string[];
}

const SRC = 'src/aihwkit';
const IO_SOURCE = `${SRC}/simulator/parameters/io.py (IOParameters)`;
const MAPPING_SOURCE = `${SRC}/simulator/parameters/mapping.py (MappingParameter)`;
const PCM_SOURCE = `${SRC}/inference/noise/pcm.py (PCMLikeNoiseModel)`;
const RERAM_SOURCE = `${SRC}/inference/noise/reram.py (ReRamWan2022NoiseModel)`;
const CUSTOM_SOURCE = `${SRC}/inference/noise/custom.py (StateIndependentNoiseModel)`;
const CONVERTER_SOURCE = `${SRC}/inference/converter/conductance.py (SinglePairConductanceConverter)`;
const DRIFT_SOURCE = `${SRC}/inference/compensation/drift.py (GlobalDriftCompensation)`;

/**
 * aihwkit's resolution of a b-bit converter over its symmetric range: 1/(2^b − 2), the form of its own
 * defaults (io.py: inp_res = 1/(2**7 − 2) for a 7-bit DAC, out_res = 1/(2**9 − 2) for a 9-bit ADC).
 */
export function aihwkitResolution(bits: number): number {
  return 1 / (2 ** bits - 2);
}

/** Problems that stop the export (empty when it can be written). */
export function aihwkitProblems(hw: HardwareConfig, device: DeviceParams, noise: NoiseSettings): string[] {
  const problems = validateNoiseSettings(noise);
  if (device.family === 'sram')
    problems.push(
      `hardware.device: "${hw.device}" is SRAM, a digital cell: aihwkit's inference noise models are for analog conductances (PCM, ReRAM); export a design on pcm, rram or fefet`,
    );
  for (const key of ['rows', 'cols', 'adcBits'] as const)
    if (!(Number.isInteger(hw[key]) && hw[key] >= 1))
      problems.push(`hardware.${key}: must be a positive integer, got ${hw[key]}`);
  if (hw.adcBits < 2) problems.push(`hardware.adcBits: aihwkit's out_res needs ≥ 2 bits, got ${hw.adcBits}`);
  return problems;
}

function noiseModelFor(model: CellNoiseModel): AihwkitNoiseModel {
  // g_max as each model's fit was made (µS); imcnas normalizes to Gmax, so the µS scale cancels (settings.ts)
  const gMax = model.kind === 'aihwkit-reram-wan2022' ? RERAM_GMAX_REFERENCE_US : PCM_GMAX_REFERENCE_US;
  const g_converter = {
    class: 'SinglePairConductanceConverter' as const,
    g_max: gMax,
    g_min: gMax * model.gMin,
  };
  switch (model.kind) {
    case 'aihwkit-pcm':
      return {
        class: 'PCMLikeNoiseModel',
        kwargs: {
          prog_noise_scale: model.programmingScale,
          read_noise_scale: model.pcmReadNoiseScale,
          drift_scale: model.driftScale,
          t_0: PCM_T0_S,
          t_read: PCM_T_READ_S,
        },
        g_converter,
      };
    case 'aihwkit-reram-wan2022':
      return {
        class: 'ReRamWan2022NoiseModel',
        kwargs: { noise_scale: model.programmingScale },
        g_converter,
      };
    case 'gaussian':
    case 'lognormal':
      // StateIndependentNoiseModel: programming σ = prog_coeff[0] µS whatever g (custom.py), drift ν ~ N(mean, std)
      return {
        class: 'StateIndependentNoiseModel',
        kwargs: {
          prog_noise_scale: model.programmingScale,
          prog_coeff_0: model.programmingSigma * (1 - model.gMin) * gMax,
          drift_nu_mean: model.driftNuMean,
          drift_nu_std: model.driftNuSigma,
          drift_scale: model.driftScale,
          t_0: model.driftT0S,
          read_noise_scale: 0,
        },
        g_converter,
      };
  }
}

/**
 * The InferenceRPUConfig for the design, the mapping table that explains it and the list of what aihwkit
 * cannot express (each with what the export does instead).
 */
export function aihwkitRpuConfig(
  network: Pick<FoldedNetwork, 'layers'> | undefined,
  hw: HardwareConfig,
  device: DeviceParams,
  noise: NoiseSettings,
): { rpuConfig: AihwkitRpuConfig; mapping: AihwkitMappingRow[]; cannotMap: string[] } {
  const model = resolveCellNoiseForDevice(device, noise);
  const noiseModel = noiseModelFor(model);
  const layers = network?.layers.map((l) => l.shape) ?? [];
  const activationBits = Math.max(...layers.map((l) => l.activationBits), 2);
  const periphery = !noise.idealAdc;
  const rpuConfig: AihwkitRpuConfig = {
    class: 'InferenceRPUConfig',
    noise_model: noiseModel,
    drift_compensation: noise.driftCompensation ? 'GlobalDriftCompensation' : null,
    forward: {
      is_perfect: false,
      // the DAC: imcnas feeds the activationBits-bit input level over ⌈a/dacBits⌉ cycles; aihwkit applies the
      // whole word at once, so its resolution is that of the input word
      inp_res: periphery ? aihwkitResolution(activationBits) : -1,
      inp_bound: 1,
      out_res: periphery ? aihwkitResolution(hw.adcBits) : -1,
      // aihwkit's default range (io.py out_bound 12): imcnas calibrates each layer's ADC range instead
      out_bound: 12,
      out_noise: model.outputNoisePerRow,
      w_noise: model.readSigmaPerRead,
      w_noise_type: model.readSigmaPerRead > 0 ? 'ADDITIVE_CONSTANT' : 'NONE',
      noise_management: 'ABS_MAX',
      bound_management: 'ITERATIVE',
    },
    mapping: { digital_bias: true, max_input_size: hw.rows, max_output_size: hw.cols },
  };
  const row = (
    imcnas: string,
    value: AihwkitMappingRow['value'],
    aihwkit: string,
    aihwkitValue: AihwkitMappingRow['aihwkitValue'],
    source: string,
  ): AihwkitMappingRow => ({ imcnas, value, aihwkit, aihwkitValue, source });
  const mapping: AihwkitMappingRow[] = [
    row('hardware.device', hw.device, 'noise_model', noiseModel.class, PCM_SOURCE),
    row(
      'device.onOffRatio (Gmin/Gmax)',
      device.onOffRatio,
      'noise_model.g_converter (g_max, g_min)',
      `${noiseModel.g_converter.g_max}, ${noiseModel.g_converter.g_min}`,
      CONVERTER_SOURCE,
    ),
    row(
      'noise.programmingScale',
      noise.programmingScale,
      noiseModel.class === 'ReRamWan2022NoiseModel'
        ? 'noise_model.noise_scale'
        : 'noise_model.prog_noise_scale',
      model.programmingScale,
      noiseModel.class === 'ReRamWan2022NoiseModel' ? RERAM_SOURCE : PCM_SOURCE,
    ),
    row(
      'noise.readNoiseScale',
      noise.readNoiseScale,
      'noise_model.read_noise_scale',
      model.pcmReadNoiseScale,
      PCM_SOURCE,
    ),
    row('noise.driftScale', noise.driftScale, 'noise_model.drift_scale', model.driftScale, PCM_SOURCE),
    row(
      'noise.driftCompensation',
      noise.driftCompensation,
      'drift_compensation',
      rpuConfig.drift_compensation,
      DRIFT_SOURCE,
    ),
    row(
      'quantization activationBits (DAC word)',
      activationBits,
      'forward.inp_res',
      rpuConfig.forward.inp_res,
      IO_SOURCE,
    ),
    row('hardware.adcBits', hw.adcBits, 'forward.out_res', rpuConfig.forward.out_res, IO_SOURCE),
    row(
      'noise.outputNoise × outputNoiseScale',
      model.outputNoisePerRow,
      'forward.out_noise',
      rpuConfig.forward.out_noise,
      IO_SOURCE,
    ),
    row(
      'noise.readNoiseSigma (per read, non-PCM)',
      model.readSigmaPerRead,
      'forward.w_noise (w_noise_type ADDITIVE_CONSTANT)',
      rpuConfig.forward.w_noise,
      IO_SOURCE,
    ),
    row('hardware.rows', hw.rows, 'mapping.max_input_size', hw.rows, MAPPING_SOURCE),
    row('hardware.cols', hw.cols, 'mapping.max_output_size', hw.cols, MAPPING_SOURCE),
    row('bias (digital, after the arrays)', true, 'mapping.digital_bias', true, MAPPING_SOURCE),
  ];
  if (noiseModel.class === 'StateIndependentNoiseModel')
    mapping.push(
      row(
        'noise.programmingSigma (fraction of the range)',
        model.programmingSigma,
        'noise_model.prog_coeff[0] (µS)',
        noiseModel.kwargs.prog_coeff_0!,
        CUSTOM_SOURCE,
      ),
    );

  const cannotMap: string[] = [];
  const sliced = layers.filter(
    (l) => sliceLayout(l.weightBits, hw.bitsPerCell, device.differentialPairs).widths.length > 1,
  );
  if (sliced.length > 0)
    cannotMap.push(
      `bitsPerCell ${hw.bitsPerCell}: ${sliced.map((l) => l.name).join(', ')} store their ${sliced[0]!.weightBits}-bit weights over several cells (bit slices, shift-added after the ADC); aihwkit stores each weight on one pair of devices, so there the whole level sits on one pair (coarser noise relative to the level, no per-slice ADC)`,
    );
  if (!device.differentialPairs)
    cannotMap.push(
      'offset encoding (one cell per weight, a reference column subtracting the offset): aihwkit programs a differential pair (SinglePairConductanceConverter), so the cells there carry |w| only',
    );
  if (hw.dacBits < activationBits)
    cannotMap.push(
      `dacBits ${hw.dacBits}: imcnas feeds inputs bit-serially (${Math.ceil(activationBits / hw.dacBits)} cycles of ${hw.dacBits} bits, each read converted by the ADC); aihwkit applies the whole ${activationBits}-bit input word at once (inp_res) and converts one output per tile`,
    );
  if (periphery)
    cannotMap.push(
      `ADC range: imcnas calibrates each layer's ADC full scale for least error on training images (noise.adcRange ${noise.adcRange}); aihwkit scales every input vector to its abs-max (noise_management ABS_MAX) and clips outputs at out_bound 12 with iterative bound management, so the ${hw.adcBits}-bit steps fall at other places`,
    );
  if (model.stuckAtZero > 0 || model.stuckAtOne > 0)
    cannotMap.push(
      `stuck-at faults (SA0 ${model.stuckAtZero}, SA1 ${model.stuckAtOne}): aihwkit's inference noise models have none; set noise.stuckAtScale 0 in imcnas to compare`,
    );
  if (noise.driftCompensation)
    cannotMap.push(
      "drift compensation: imcnas reads each layer once with an all-ones input and scales the layer's outputs by the ratio of summed |outputs|; aihwkit's GlobalDriftCompensation reads each tile with one-hot inputs (eye) and uses the mean |output| (drift.py), one factor per tile",
    );
  if (model.kind === 'aihwkit-reram-wan2022')
    cannotMap.push(
      'ReRAM relaxation: aihwkit accepts only its three fitted times (1 s, 1 day, 2 days) and redraws the error from the target at each; imcnas interpolates σ in ln t and ages one chip',
    );
  if (model.kind === 'lognormal')
    cannotMap.push(
      'lognormal programming noise: aihwkit has no multiplicative conductance noise; exported as StateIndependentNoiseModel with the same σ as a fraction of the range',
    );
  if (model.relaxation)
    cannotMap.push('σ growth after programming (relaxation): StateIndependentNoiseModel has none');
  if (layers.some((l) => l.kind === 'depthwise'))
    cannotMap.push(
      "depthwise convolutions: aihwkit's AnalogConv2d takes groups = 1 only (nn/modules/conv.py); run.py programs each as a dense convolution whose weights are zero off the block diagonal, as imcnas's block-diagonal packing also programs its off-diagonal cells at level 0",
    );
  if (layers.some((l) => l.kind !== 'depthwise' && l.inChannels * l.kernelH * l.kernelW > hw.rows))
    cannotMap.push(
      `layers taller than ${hw.rows} rows: aihwkit splits them into tiles of max_input_size rows, each converter scaling its own largest |level| to g_max; imcnas keeps one level-to-conductance scale for the whole layer`,
    );
  return { rpuConfig, mapping, cannotMap };
}

/** Each weight layer's level grid, in the order run.py meets the ONNX nodes. */
export function aihwkitLayers(network: FoldedNetwork): AihwkitLayer[] {
  return network.layers.map((layer) => {
    const { weightBits, activationBits } = layer.shape;
    const highest = layer.inputSigned ? 2 ** (activationBits - 1) - 1 : 2 ** activationBits - 1;
    return {
      name: layer.shape.name,
      kind: layer.shape.kind,
      weightBits,
      activationBits,
      maxLevel: 2 ** (weightBits - 1) - 1,
      weightScale: Array.from(layer.weightScale),
      inputStep: layer.inputScale,
      inputSigned: layer.inputSigned,
      inputLevels: { lowest: layer.inputSigned ? -highest : 0, highest },
    };
  });
}

export interface AihwkitExportRequest {
  network: FoldedNetwork;
  hardware: HardwareConfig;
  /** The chip's noise settings (default: the device library's nominal, DEVICE_NOISE). */
  noise?: NoiseSettings;
  /** Times after programming to test at (seconds, ≥ 0). */
  driftSeconds: number[];
  outDir: string;
  source: Record<string, unknown>;
  library?: HardwareLibrary;
}

export interface AihwkitExportResult {
  outDir: string;
  files: string[];
  config: AihwkitConfigFile;
}

/** Writes model.onnx and aihwkit.json for one design (each atomically); refuses before writing anything. */
export async function exportToAihwkit(request: AihwkitExportRequest): Promise<AihwkitExportResult> {
  const { network, hardware: hw, outDir } = request;
  const noise = request.noise ?? { ...DEVICE_NOISE };
  const problems: string[] = [];
  let device: DeviceParams | undefined;
  try {
    device = getDevice(request.library ?? DEFAULT_LIBRARY, hw.device);
  } catch (error) {
    problems.push(`hardware.device: ${(error as Error).message}`);
  }
  if (device) problems.push(...aihwkitProblems(hw, device, noise));
  if (request.driftSeconds.length === 0 || request.driftSeconds.some((t) => !(Number.isFinite(t) && t >= 0)))
    problems.push(
      `driftSeconds: give one or more times ≥ 0 s after programming, got [${request.driftSeconds.join(', ')}]`,
    );
  if (network.layers.length === 0) problems.push('layers: the network has no weight layers');
  if (problems.length > 0 || !device) throw new AihwkitExportError(problems);

  const onnx = foldedNetworkToOnnx(network);
  const { rpuConfig, mapping, cannotMap } = aihwkitRpuConfig(network, hw, device, noise);
  const [h, w, c] = network.architecture.inputShape;
  const config: AihwkitConfigFile = {
    format: 'imcnas-aihwkit/1',
    aihwkit: AIHWKIT_TARGET,
    source: request.source,
    hardware: hw,
    noise,
    model: ONNX_MODEL_FILE,
    inputShape: [c, h, w],
    driftSeconds: [...request.driftSeconds],
    rpuConfig,
    layers: aihwkitLayers(network),
    mapping,
    cannotMap,
  };
  await writeFileAtomic(path.join(outDir, ONNX_MODEL_FILE), Buffer.from(onnx));
  await writeJsonAtomic(path.join(outDir, AIHWKIT_CONFIG_FILE), config);
  return { outDir, files: [ONNX_MODEL_FILE, AIHWKIT_CONFIG_FILE], config };
}
