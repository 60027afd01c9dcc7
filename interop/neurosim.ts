/**
 * Export of a found design to DNN+NeuroSim V1.4's inference engine (Inference_pytorch/NeuroSIM), so a
 * researcher can run the same design there and set NeuroSim's area, latency and energy beside imcnas's.
 *
 * The directory written holds what NeuroSim's PyTorch wrapper would have produced for the design:
 *   NetWork.csv            one row per weight layer: IFM H, IFM W, Cin, Kh, Kw, Cout, max-pool, stride
 *   param.json             every Param.cpp assignment, why it maps so, and what NeuroSim cannot express
 *   Param.cpp.patch        the same assignments as `name = value;` lines, ready to replace in Param.cpp
 *   traces/weight<i>.csv   (Cin·K²) × Cout real weights in (−1, 1) on the 2^(1−b) grid (utee/hook.py)
 *   traces/image<n>/input<i>.csv  (Cin·K²) × (vectors · inputBits) bit planes, MSB first (hook.py dec2bin)
 *   imcnas.json            imcnas's cost model for the same design, for the side-by-side comparison
 *   run.sh                 copy a NeuroSIM build, patch Param.cpp, make, run with the exact command line
 *
 * Nothing of NeuroSim is copied (licence CC BY-NC 4.0); the layouts follow the public wrapper and the
 * parameter names of V1.4's Param.cpp (https://github.com/neurosim/DNN_NeuroSim_V1.4). The fidelity bench
 * (bench/fidelity.ts, bench/fixtures/neurosim/README.md) documents how each knob maps and how far the two
 * models agree. The rows live in neurosimFormat.ts, the traces in neurosimTraces.ts, the comparison with
 * NeuroSim's printed results in neurosimResults.ts; this module re-exports them.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { FoldedNetwork } from '../models/folded';
import { writeFileAtomic, writeJsonAtomic } from '../storage/atomic';
import type { NetworkCost } from '../hardware/cost';
import { evaluateNetwork } from '../hardware/cost';
import type { DeviceParams } from '../hardware/devices';
import type { HardwareLibrary } from '../hardware/library';
import { DEFAULT_LIBRARY, getDevice } from '../hardware/library';
import { buildHardwareLibrary } from '../hardware/schema';
import type { HardwareConfig, LayerShape } from '../hardware/types';
import {
  NEUROSIM_TARGET,
  NeuroSimExportError,
  neurosimLayerRows,
  neurosimOperations,
  type NeuroSimLayerRow,
} from './neurosimFormat';
import { neurosimAlignedSetting } from './neurosimResults';
import { inputTrace, recordLayerInputs, weightTrace } from './neurosimTraces';

export * from './neurosimFormat';
export * from './neurosimResults';
export * from './neurosimTraces';

/** One Param.cpp assignment: the C literal NeuroSim reads and the reason for it. */
export interface NeuroSimParam {
  name: string;
  value: string;
  why: string;
}

/**
 * NeuroSim V1.4 Param.cpp memcelltype: 1 SRAM, 2 RRAM (1T1R analog eNVM), 3 FeFET. PCM has no cell type
 * of its own: it is exported as the 1T1R analog cell with the PCM preset's resistances (as the fidelity
 * bench's pcm22 fixture does). MRAM has none either and its on/off ratio (≈ 3) is far outside what the
 * multi-level analog cell models, so it is refused.
 */
const CELL_TYPES: Record<string, { memcelltype: number; note?: string }> = {
  sram: { memcelltype: 1 },
  rram: { memcelltype: 2 },
  pcm: {
    memcelltype: 2,
    note: 'PCM: NeuroSim has no PCM cell type; exported as its 1T1R analog cell (memcelltype 2) with the PCM resistances, so drift and the PCM read pulse model of imcnas do not apply there',
  },
  fefet: { memcelltype: 3 },
};

/** Problems that stop a NeuroSim run (empty when it can run); each names the field and the fix. */
export function neurosimProblems(
  layers: readonly LayerShape[],
  hw: HardwareConfig,
  device: DeviceParams,
): string[] {
  const problems: string[] = [];
  if (!CELL_TYPES[device.family])
    problems.push(
      `hardware.device: "${hw.device}" (family ${device.family}) has no NeuroSim cell type (SRAM, RRAM, FeFET; PCM as a 1T1R analog cell); pick a design on one of rram, pcm, fefet or sram`,
    );
  // main.cpp: "RRAM-CIM is not supported beyond 22 nm!"
  if (device.family !== 'sram' && device.family !== 'fefet' && hw.techNode <= 14)
    problems.push(
      `hardware.techNode: NeuroSim V1.4 refuses RRAM (memcelltype 2, also PCM's stand-in) at ${hw.techNode} nm (main.cpp allows ≥ 22 nm); pick a design at 22 nm or above, or on SRAM/FeFET`,
    );
  if (layers.length === 0) problems.push('layers: the network has no weight layers');
  // main.cpp takes one synapse precision and one input precision for the whole network (argv[2], argv[3]).
  const weightBits = new Set(layers.map((l) => l.weightBits));
  const activationBits = new Set(layers.map((l) => l.activationBits));
  if (weightBits.size > 1)
    problems.push(
      `quantization.*.weightBits: NeuroSim takes one weight precision for the whole network, the design mixes ${[...weightBits].join(', ')}; pick a design searched with quantization.granularity: network`,
    );
  if (activationBits.size > 1)
    problems.push(
      `quantization.*.activationBits: NeuroSim takes one input precision for the whole network, the design mixes ${[...activationBits].join(', ')}; pick a design searched with quantization.granularity: network`,
    );
  const bits = layers[0]?.weightBits ?? 0;
  // main.cpp: "Memory precision is even higher than synapse precision"
  if (device.family !== 'sram' && hw.bitsPerCell > bits && layers.length > 0)
    problems.push(
      `hardware.bitsPerCell: ${hw.bitsPerCell} bits per cell exceed the ${bits}-bit weights; NeuroSim refuses that (main.cpp), pick bitsPerCell ≤ weightBits`,
    );
  // Chip.cpp ChipFloorPlan (conventional mapping) sizes a tile as the widest layer's weight columns rounded
  // up to a power of two, Cout · ⌈weightBits / cellBit⌉ (main.cpp numColPerSynapse), and stops with "SubArray
  // Size is too large" (then crashes) when that is below 4 × the array rows.
  if (layers.length > 0 && CELL_TYPES[device.family]) {
    const cellBit = device.family === 'sram' ? 1 : hw.bitsPerCell;
    const columnsPerWeight = Math.ceil(bits / cellBit);
    const widest = Math.max(...layers.map((l) => l.outChannels));
    const tile = 2 ** Math.ceil(Math.log2(widest * columnsPerWeight));
    if (tile < 4 * hw.rows)
      problems.push(
        `hardware.rows: NeuroSim V1.4 sizes its tiles from the widest layer (${widest} outputs × ${columnsPerWeight} columns per weight → ${tile} columns) and refuses arrays with more than a quarter of that in rows (Chip.cpp: "SubArray Size is too large"); this design has ${hw.rows} rows, so pick one with arrays of ≤ ${tile / 4} rows, or wider layers`,
      );
  }
  if (!Number.isInteger(hw.adcBits) || hw.adcBits < 1)
    problems.push(`hardware.adcBits: must be a positive integer, got ${hw.adcBits}`);
  return problems;
}

/**
 * What NeuroSim cannot express for this design, each with what the export does instead (the run still
 * goes, but these explain gaps between the two models).
 */
export function neurosimApproximations(
  network: FoldedNetwork | undefined,
  layers: readonly LayerShape[],
  hw: HardwareConfig,
  device: DeviceParams,
): string[] {
  const notes: string[] = [];
  const cell = CELL_TYPES[device.family];
  if (cell?.note) notes.push(cell.note);
  const depthwise = layers.filter((l) => l.kind === 'depthwise');
  if (depthwise.length > 0)
    notes.push(
      `depthwise convolutions (${depthwise.map((l) => l.name).join(', ')}): NeuroSim maps only dense convolutions; each is exported as a C·K² × C convolution whose weights are zero off the block diagonal, so NeuroSim stores and reads the whole matrix where imcnas packs the channels block-diagonally (hardware/mapping.ts)`,
    );
  if (network?.architecture.blocks.some((b) => b.residual))
    notes.push(
      'residual additions: NeuroSim has no element-wise add; the weight layers are exported, the digital adds are not counted',
    );
  if (layers.some((l) => l.kind === 'dense') && layers.some((l) => l.kind !== 'dense'))
    notes.push(
      'global average pooling before the classifier: NeuroSim models only 2×2 max pooling (the CSV pooling flag), so the pooling step is not counted (its flag is 0 everywhere)',
    );
  if (hw.dacBits > 1)
    notes.push(
      `dacBits ${hw.dacBits}: NeuroSim feeds inputs bit-serially one bit per cycle (numBitInput cycles), so it runs ${layers[0]?.activationBits ?? 0} input cycles per vector where imcnas runs ${Math.ceil((layers[0]?.activationBits ?? 0) / hw.dacBits)}`,
    );
  if (device.family !== 'sram' && device.differentialPairs)
    notes.push(
      'differential pairs: imcnas stores a signed weight on two columns; NeuroSim stores the offset-binary weight (level + 2^(b−1)) on one column per bit slice and subtracts a reference column digitally',
    );
  if (device.family === 'sram' && hw.bitsPerCell > 1)
    notes.push(`bitsPerCell ${hw.bitsPerCell}: NeuroSim forces cellBit = 1 for SRAM (Param.cpp)`);
  if (hw.executionMode === 'pipelined' && hw.pipelineSpeedUp !== 'ifm')
    notes.push(
      'pipelined: NeuroSim duplicates the weights of the large-map layers (Param.cpp speedUpDegree = 8, Chip.cpp); imcnas pipelines without copies unless pipelineSpeedUp is "ifm"',
    );
  if (hw.supplyVoltage !== undefined)
    notes.push(`supplyVoltage ${hw.supplyVoltage} V: NeuroSim uses its node's nominal VDD (technology.cpp)`);
  if (hw.tiles !== undefined)
    notes.push(`tiles ${hw.tiles}: NeuroSim sizes its tiles and their number itself (main.cpp floorplan)`);
  if (hw.architecture !== undefined && hw.architecture !== 'neurosim')
    notes.push(
      `architecture "${hw.architecture}": NeuroSim models its own periphery (the imcnas "neurosim" preset is the one fitted to it)`,
    );
  if (device.family !== 'sram' && device.readVoltageV !== null)
    notes.push(
      `read voltage: NeuroSim V1.4 fixes it per node (Param.cpp; its ADC fit assumes it) where imcnas reads ${hw.device} at ${device.readVoltageV} V`,
    );
  notes.push(
    'per-channel weight scales: NeuroSim maps every layer onto one (−1, 1) range; the traces carry the integer levels (level / 2^(b−1)), which is what the cells store, so the per-channel scale stays digital as in imcnas',
  );
  notes.push(
    "NeuroSim counts (H − K + 1)/s × (W − K + 1)/s vectors per layer (Chip.cpp, no padding); each row's IFM H and W are the padded input map (output · stride + K − 1) so that it simulates exactly the design's output pixels",
  );
  return notes;
}

/**
 * The Param.cpp assignments for the design (V1.4 names). Knobs NeuroSim takes on its command line (weight
 * and input bits, array rows, rows read in parallel) are in `neurosimCommand`.
 */
export function neurosimParams(
  hw: HardwareConfig,
  device: DeviceParams,
  inputBitDensity?: number,
): NeuroSimParam[] {
  const cell = CELL_TYPES[device.family];
  if (!cell) throw new NeuroSimExportError([`hardware.device: "${hw.device}" has no NeuroSim cell type`]);
  const params: NeuroSimParam[] = [
    {
      name: 'operationmode',
      value: '2',
      why: 'conventional parallel: all rows of an array read at once (analog MAC), as imcnas models every crossbar',
    },
    {
      name: 'novelMapping',
      value: 'false',
      why: "conventional (im2col) mapping, as imcnas maps every layer (hardware/mapping.ts); V1.4's stock novel mapping spreads each 3×3 kernel position over its own PE",
    },
    {
      name: 'memcelltype',
      value: String(cell.memcelltype),
      why: `device ${hw.device} (family ${device.family}) → Param.cpp 1 SRAM / 2 RRAM (1T1R) / 3 FeFET`,
    },
    {
      name: 'cellBit',
      value: String(device.family === 'sram' ? 1 : hw.bitsPerCell),
      why: `bitsPerCell ${hw.bitsPerCell} (NeuroSim forces 1 on SRAM)`,
    },
    {
      name: 'levelOutput',
      value: String(2 ** hw.adcBits),
      why: `adcBits ${hw.adcBits}: NeuroSim counts ADC levels, 2^bits`,
    },
    {
      name: 'SARADC',
      value: hw.adcType === 'sar' ? 'true' : 'false',
      why: `adcType ${hw.adcType}: true = SAR ADC, false = multi-level sense amplifier (flash)`,
    },
    {
      name: 'numColMuxed',
      value: String(hw.colsPerAdc),
      why: `colsPerAdc ${hw.colsPerAdc}: columns sharing one ADC`,
    },
    { name: 'technode', value: String(hw.techNode), why: `techNode ${hw.techNode} nm` },
    {
      name: 'numColSubArray',
      value: String(hw.cols),
      why: `array ${hw.rows}×${hw.cols}: columns here, rows on the command line (numRowSubArray)`,
    },
    {
      name: 'pipeline',
      value: hw.executionMode === 'pipelined' ? 'true' : 'false',
      why: `executionMode ${hw.executionMode ?? 'layer-by-layer'}`,
    },
  ];
  if (device.family !== 'sram' && device.ronOhm !== null && device.onOffRatio !== null) {
    params.push(
      {
        name: 'resistanceOn',
        value: cLiteral(device.ronOhm),
        why: `Ron of the ${device.name} preset (hardware/devices.ts)`,
      },
      {
        name: 'resistanceOff',
        value: `${cLiteral(device.ronOhm)}*${cLiteral(device.onOffRatio)}`,
        why: `Ron × on/off ratio ${device.onOffRatio} of the ${device.name} preset`,
      },
      {
        name: 'readPulseWidth',
        value: cLiteral(device.readPulseS),
        why: `read pulse of the ${device.name} preset (s)`,
      },
    );
  }
  if (inputBitDensity !== undefined)
    params.push({
      name: 'inputtoggle',
      value: inputBitDensity.toFixed(4),
      why: 'share of 1s in the exported input bit planes (MAC-weighted over layers); Param.cpp asks for it from real traces',
    });
  return params;
}

/** JavaScript's shortest round-trip form (100000, 12.5, 1e-8) is also a valid C double literal. */
function cLiteral(value: number): string {
  return String(value);
}

/** `Param.cpp.patch`: one `name = value;  // why` line per assignment, replacing the first of each name. */
export function paramPatchText(params: readonly NeuroSimParam[]): string {
  const lines = params.map((p) => `${p.name} = ${p.value};  // ${p.why}`);
  return `// Param.cpp assignments for NeuroSim V${NEUROSIM_TARGET.version}: replace the first assignment of each name\n${lines.join('\n')}\n`;
}

/** The command line NeuroSim's wrapper writes (trace_command.sh), relative to the NeuroSIM directory. */
export function neurosimCommand(
  layers: readonly LayerShape[],
  hw: HardwareConfig,
  traceDir: string,
  image: number | string = 0,
): string[] {
  const args = [
    './main',
    'NetWork.csv',
    String(layers[0]?.weightBits ?? 8),
    String(layers[0]?.activationBits ?? 8),
    String(hw.rows),
    // rows read in parallel: all of them (operationmode 2)
    String(hw.rows),
  ];
  layers.forEach((_, i) => {
    args.push(path.join(traceDir, `weight${i}.csv`), path.join(traceDir, `image${image}`, `input${i}.csv`));
  });
  return args;
}

function csvNumbers(rows: readonly number[][], digits: number): string {
  return `${rows.map((row) => row.map((v) => v.toFixed(digits)).join(',')).join('\n')}\n`;
}

function csvBits(rows: readonly Uint8Array[]): string {
  return `${rows.map((row) => Array.from(row).join(',')).join('\n')}\n`;
}

export interface NeuroSimExportRequest {
  /** The trained, folded network (models/folded.ts). */
  network: FoldedNetwork;
  hardware: HardwareConfig;
  /** Test images, NHWC pixels as the network reads them, and how many to trace (≥ 1). */
  images: Float32Array;
  imageCount: number;
  /** Labels of the images, recorded beside the traces. */
  labels?: Int32Array;
  outDir: string;
  /** Where the design came from (search, key, description), recorded in param.json. */
  source: Record<string, unknown>;
  library?: HardwareLibrary;
}

export interface NeuroSimExportResult {
  outDir: string;
  files: string[];
  rows: NeuroSimLayerRow[];
  params: NeuroSimParam[];
  approximations: string[];
  inputBitDensity: number;
  command: string;
}

/** Writes the self-contained NeuroSim directory for one design (every file atomically). */
export async function exportToNeuroSim(request: NeuroSimExportRequest): Promise<NeuroSimExportResult> {
  const { network, hardware: hw, outDir } = request;
  const library = request.library ?? DEFAULT_LIBRARY;
  const layers = network.layers.map((l) => l.shape);
  const problems: string[] = [];
  let device: DeviceParams | undefined;
  try {
    device = getDevice(library, hw.device);
  } catch (error) {
    problems.push((error as Error).message);
  }
  if (device) problems.push(...neurosimProblems(layers, hw, device));
  if (!Number.isInteger(request.imageCount) || request.imageCount < 1)
    problems.push(
      `images: trace at least one test image (got ${request.imageCount}); pass --images 1 or more`,
    );
  const pixels = network.architecture.inputShape.reduce((a, b) => a * b, 1);
  if (request.images.length < request.imageCount * pixels)
    problems.push(
      `images: ${request.images.length / pixels} images given for ${request.imageCount} traced; load more test images`,
    );
  if (problems.length > 0 || !device) throw new NeuroSimExportError(problems);

  const rows = neurosimLayerRows(layers);
  const files: string[] = [];
  const write = async (name: string, data: string): Promise<void> => {
    await writeFileAtomic(path.join(outDir, name), data);
    files.push(name);
  };

  await write('NetWork.csv', `${rows.map((r) => r.join(',')).join('\n')}\n`);
  for (const [i, layer] of network.layers.entries()) {
    // level / 2^(b−1) has b − 1 binary fraction digits, so b − 1 decimals write it exactly
    await write(
      path.join('traces', `weight${i}.csv`),
      csvNumbers(weightTrace(layer), Math.max(5, layer.shape.weightBits - 1)),
    );
  }

  const recorded = recordLayerInputs(network, request.images, request.imageCount);
  let onesWeighted = 0;
  let weight = 0;
  for (const [n, inputs] of recorded.entries()) {
    for (const [i, layer] of network.layers.entries()) {
      const input = inputs[i]!;
      const trace = inputTrace(layer, input.levels, input.height, input.width);
      let ones = 0;
      for (const row of trace) for (const bit of row) ones += bit;
      const cells = trace.length * (trace[0]?.length ?? 0);
      // MAC-weighted: a layer's bits drive its whole row of columns (NeuroSim's own inputtoggle is one number)
      const macs = cells * layer.shape.outChannels;
      onesWeighted += (ones / Math.max(cells, 1)) * macs;
      weight += macs;
      await write(path.join('traces', `image${n}`, `input${i}.csv`), csvBits(trace));
    }
  }
  const inputBitDensity = weight > 0 ? onesWeighted / weight : 0;
  const params = neurosimParams(hw, device, inputBitDensity);
  const approximations = neurosimApproximations(network, layers, hw, device);
  const command = neurosimCommand(layers, hw, 'traces').join(' ');
  const scriptCommand = neurosimCommand(layers, hw, 'traces', '$IMAGE').join(' ');

  const figures = (cost: NetworkCost, ops: number) => ({
    areaMm2: cost.areaMm2,
    latencyS: cost.latencyS,
    energyJ: cost.energyJ,
    topsPerW: cost.topsPerW,
    ops: cost.ops,
    // on NeuroSim's operation count, so that the two TOPS/W compare energies
    topsPerWOnNeuroSimOps: ops / cost.energyJ / 1e12,
    arrays: cost.arrays,
    tiles: cost.tiles,
    layers: (cost.layers ?? []).map((layer) => ({
      name: layer.name,
      latencyS: layer.latencyS,
      energyJ: layer.energyJ,
      arrays: layer.mapping.arrays,
      tiles: layer.tiles,
    })),
  });
  const operations = neurosimOperations(rows);
  const aligned = neurosimAlignedSetting(rows, layers, hw, device);
  await writeJsonAtomic(path.join(outDir, 'imcnas.json'), {
    note: 'imcnas cost model (hardware/cost.ts) at the input bit density of the exported traces: the design as searched, and given what NeuroSim is given (its rows, 1-bit inputs, no differential pairs, its read voltage and cell area)',
    inputBitDensity,
    neurosimOperations: operations,
    design: figures(evaluateNetwork(layers, hw, library, { inputBitDensity, perLayer: true }), operations),
    asNeuroSimRuns: {
      hardware: aligned.hw,
      library: aligned.libraryConfig,
      ...figures(
        evaluateNetwork(aligned.layers, aligned.hw, buildHardwareLibrary(aligned.libraryConfig, library), {
          inputBitDensity,
          perLayer: true,
        }),
        operations,
      ),
    },
  });
  files.push('imcnas.json');

  await write('Param.cpp.patch', paramPatchText(params));
  await writeJsonAtomic(path.join(outDir, 'param.json'), {
    neurosim: NEUROSIM_TARGET,
    source: request.source,
    hardware: hw,
    layers: layers.map((l, i) => ({ name: l.name, kind: l.kind, row: rows[i] })),
    weightBits: layers[0]!.weightBits,
    inputBits: layers[0]!.activationBits,
    params,
    cannotExpress: approximations,
    images: {
      count: request.imageCount,
      labels: request.labels ? Array.from(request.labels.subarray(0, request.imageCount)) : undefined,
      inputEncoding:
        'bit planes MSB first per output pixel; signed inputs two’s complement (hook.py dec2bin), unsigned (post-ReLU) plain binary',
    },
    inputBitDensity,
    command,
  });
  files.push('param.json');
  await write('run.sh', runScript(params, scriptCommand, request.imageCount));
  await fs.chmod(path.join(outDir, 'run.sh'), 0o755);
  return { outDir, files, rows, params, approximations, inputBitDensity, command };
}

/**
 * run.sh: copies a built NeuroSIM tree into a scratch directory beside the export, applies the Param.cpp
 * assignments, rebuilds and runs the command line on one traced image. Never touches the NeuroSIM tree given.
 */
function runScript(params: readonly NeuroSimParam[], command: string, images: number): string {
  // GNU sed `0,/re/` ends the range at the first match: only the first assignment of each name changes
  const sedArgs = params
    .map((p) => `  -e '0,/^\\(\\s*\\)${p.name}\\s*=[^;]*;/s//\\1${p.name} = ${p.value};/'`)
    .join(' \\\n');
  return `#!/usr/bin/env bash
# Runs this exported design in DNN+NeuroSim V${NEUROSIM_TARGET.version} (${NEUROSIM_TARGET.repository} @ ${NEUROSIM_TARGET.commit}).
# Usage: ./run.sh <path to a built Inference_pytorch/NeuroSIM> [image index 0..${images - 1}]
# Writes neurosim-image<i>.txt (NeuroSim's output) here; works in a copy of the tree (work/NeuroSIM).
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
SRC="\${1:?usage: run.sh <NeuroSIM directory> [image]}"
IMAGE="\${2:-0}"
[ -f "$SRC/Param.cpp" ] || { echo "run.sh: $SRC has no Param.cpp (give the Inference_pytorch/NeuroSIM directory)" >&2; exit 2; }
[ -d "$HERE/traces/image$IMAGE" ] || { echo "run.sh: no traces for image $IMAGE (0..${images - 1})" >&2; exit 2; }
WORK="$HERE/work/NeuroSIM"
rm -rf "$WORK" && mkdir -p "$HERE/work" && cp -r "$SRC" "$WORK"
# the first assignment of each name is the user-defined one (Param.cpp.patch lists why each maps so)
for name in ${params.map((p) => p.name).join(' ')}; do
  grep -qE "^\\s*$name\\s*=" "$WORK/Param.cpp" || { echo "run.sh: Param.cpp has no assignment to $name" >&2; exit 2; }
done
sed -i \\
${sedArgs} \\
  "$WORK/Param.cpp"
(cd "$WORK" && make -s)
cp "$HERE/NetWork.csv" "$WORK/NetWork.csv"
ln -sfn "$HERE/traces" "$WORK/traces"
cd "$WORK"
${command} | tee "$HERE/neurosim-image$IMAGE.txt"
`;
}
