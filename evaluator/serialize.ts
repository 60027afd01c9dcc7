/**
 * A FoldedNetwork as one JSON file: what the external evaluator protocol calls the weights reference
 * (PROTOCOL.md). Float arrays are base64 of little-endian float32, so a Python evaluator decodes them with
 * the standard library (base64 + struct/array) and every value round-trips bit for bit.
 */
import type { FoldedLayer } from '../hardware/folded';
import type { FoldedNetwork } from '../models/folded';

export const FOLDED_NETWORK_FORMAT = 'imcnas-folded-network/1';

export interface FoldedLayerJson {
  shape: FoldedLayer['shape'];
  kernelShape: number[];
  /** base64 little-endian float32 */
  kernel: string;
  weightScale: string;
  bias: string;
  inputScale: number;
  inputSigned: boolean;
}

export interface FoldedNetworkJson {
  format: typeof FOLDED_NETWORK_FORMAT;
  architecture: FoldedNetwork['architecture'];
  quantization: FoldedNetwork['quantization'];
  layers: FoldedLayerJson[];
}

export function float32ToBase64(values: Float32Array): string {
  const bytes = Buffer.alloc(values.length * 4);
  for (let i = 0; i < values.length; i++) bytes.writeFloatLE(values[i]!, i * 4);
  return bytes.toString('base64');
}

export function base64ToFloat32(text: string): Float32Array {
  const bytes = Buffer.from(text, 'base64');
  if (bytes.length % 4 !== 0) throw new Error(`float32 array: ${bytes.length} bytes is not a multiple of 4`);
  const values = new Float32Array(bytes.length / 4);
  for (let i = 0; i < values.length; i++) values[i] = bytes.readFloatLE(i * 4);
  return values;
}

export function foldedNetworkToJson(net: FoldedNetwork): FoldedNetworkJson {
  return {
    format: FOLDED_NETWORK_FORMAT,
    architecture: net.architecture,
    quantization: net.quantization,
    layers: net.layers.map((layer) => ({
      shape: layer.shape,
      kernelShape: layer.kernelShape,
      kernel: float32ToBase64(layer.kernel),
      weightScale: float32ToBase64(layer.weightScale),
      bias: float32ToBase64(layer.bias),
      inputScale: layer.inputScale,
      inputSigned: layer.inputSigned,
    })),
  };
}

export function foldedNetworkFromJson(json: FoldedNetworkJson): FoldedNetwork {
  if (json.format !== FOLDED_NETWORK_FORMAT)
    throw new Error(
      `not a folded network file: format ${JSON.stringify(json.format)}, expected ${FOLDED_NETWORK_FORMAT}`,
    );
  return {
    architecture: json.architecture,
    quantization: json.quantization,
    layers: json.layers.map((layer) => ({
      shape: layer.shape,
      kernelShape: layer.kernelShape,
      kernel: base64ToFloat32(layer.kernel),
      weightScale: base64ToFloat32(layer.weightScale),
      bias: base64ToFloat32(layer.bias),
      inputScale: layer.inputScale,
      inputSigned: layer.inputSigned,
    })),
  };
}
