/**
 * The vocabulary shared by the search space (which produces these), the cost model and the noise
 * models (which consume them). Plain data only: genomes decode into these, activities pass them as JSON.
 */

/** Device families the library knows; named presets refine one of these (see hardware/devices.ts). */
export type DeviceFamily = 'rram' | 'pcm' | 'fefet' | 'sram' | 'mram';

export type AdcType = 'sar' | 'flash';

/** Technology nodes in nm that the node table covers. */
export type TechNode = 130 | 90 | 65 | 45 | 32 | 22 | 14 | 10 | 7 | 5;

/** One weight layer as the crossbar sees it. A dense layer is a conv with H = W = K = 1. */
export interface LayerShape {
  name: string;
  kind: 'conv' | 'depthwise' | 'dense';
  inChannels: number;
  outChannels: number;
  kernelH: number;
  kernelW: number;
  stride: number;
  /** Output feature map (number of matrix-vector multiplications per image = outH · outW). */
  outH: number;
  outW: number;
  weightBits: number;
  activationBits: number;
  /**
   * Output pixels the pooling after this layer merges into one (4 for a 2×2 max-pool); omitted = 1. Only
   * the data path uses it: NeuroSim's chip bus carries the pooled outputs (Chip.cpp numBitToLoadIn).
   */
  pooling?: number;
}

/** The hardware genes of one candidate chip, decoded. */
export interface HardwareConfig {
  /** A device family or a named preset of the device library (e.g. 'rram', 'rram-neurram'). */
  device: string;
  rows: number;
  cols: number;
  adcBits: number;
  adcType: AdcType;
  /** Input bits applied per cycle (bit-serial DAC resolution). */
  dacBits: number;
  bitsPerCell: number;
  /** Columns multiplexed onto one ADC. */
  colsPerAdc: number;
  techNode: TechNode;
  /** Optional supply-voltage override in volts; defaults to the node's nominal VDD. */
  supplyVoltage?: number;
  /** Optional tile budget (capacity constraint); undefined = as many as the network needs. */
  tiles?: number;
  /**
   * Peripheral-architecture preset of the hardware library (ADC model, buffers, interconnect, tile
   * organisation; see hardware/architectures.ts), e.g. 'neurosim' (default) or 'isaac'.
   */
  architecture?: string;
  /** Crossbar arrays per tile; undefined = the architecture preset's value. */
  arraysPerTile?: number;
  /**
   * 'layer-by-layer' (default): one image passes the layers in turn, latency = Σ layers.
   * 'pipelined': every layer works on a different image at once, time per image = the slowest layer.
   */
  executionMode?: ExecutionMode;
  /**
   * Pipelined mode only: copy the weights of the slowest layers into the spare tiles of the `tiles`
   * budget so they process several output pixels at once (ISAAC-style balancing).
   */
  weightDuplication?: boolean;
  /**
   * Pipelined mode only: 'ifm' copies each convolution's weights so that every layer processes an
   * ⌈IFM/S⌉-sized share of the largest input map per step (NeuroSim V1.4 Chip.cpp ChipDesignInitialize:
   * speed-up = ⌈(IFM / ⌈maxIFM/S⌉)²⌉, S = min(8, maxIFM/minIFM)), adding tiles as it needs them.
   */
  pipelineSpeedUp?: 'ifm';
}

export type ExecutionMode = 'layer-by-layer' | 'pipelined';
