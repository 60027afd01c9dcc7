/**
 * IDX files (LeCun's MNIST format, used by Fashion-MNIST): a big-endian header
 * `0x00 0x00 <type> <ndims>` then ndims uint32 sizes, then the data. We read the gzip-compressed files
 * that Debian's `dataset-fashion-mnist` installs, and refuse anything malformed with an error naming the
 * file and what is wrong, before any training starts.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { gunzipSync } from 'node:zlib';

export class DatasetError extends Error {
  override name = 'DatasetError';
}

/** IDX type byte 0x08 = unsigned byte, the only element type (Fashion-)MNIST uses. */
const IDX_UNSIGNED_BYTE = 0x08;

export interface IdxArray {
  dims: number[];
  data: Uint8Array;
}

export function parseIdx(buffer: Buffer, source: string): IdxArray {
  if (buffer.length < 4)
    throw new DatasetError(`${source}: ${buffer.length} bytes is too short for an IDX header`);
  if (buffer[0] !== 0 || buffer[1] !== 0) {
    throw new DatasetError(
      `${source}: not an IDX file (magic starts ${buffer[0]}, ${buffer[1]}; expected 0, 0)`,
    );
  }
  if (buffer[2] !== IDX_UNSIGNED_BYTE) {
    throw new DatasetError(
      `${source}: IDX element type 0x${buffer[2].toString(16)} unsupported (expected 0x08, ubyte)`,
    );
  }
  const ndims = buffer[3];
  if (ndims < 1 || ndims > 4) throw new DatasetError(`${source}: IDX rank ${ndims} out of range 1..4`);
  const headerBytes = 4 + 4 * ndims;
  if (buffer.length < headerBytes) throw new DatasetError(`${source}: truncated IDX header`);
  const dims: number[] = [];
  for (let i = 0; i < ndims; i++) dims.push(buffer.readUInt32BE(4 + 4 * i));
  const expected = dims.reduce((a, b) => a * b, 1);
  const actual = buffer.length - headerBytes;
  if (actual !== expected) {
    throw new DatasetError(
      `${source}: header says ${dims.join('×')} = ${expected} bytes of data but the file holds ${actual} ` +
        `(${actual < expected ? 'truncated' : 'trailing bytes'}); reinstall the dataset`,
    );
  }
  return { dims, data: new Uint8Array(buffer.buffer, buffer.byteOffset + headerBytes, expected) };
}

export async function readIdxFile(file: string): Promise<IdxArray> {
  let raw: Buffer;
  try {
    raw = await fs.readFile(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new DatasetError(`${file}: file not found`);
    throw error;
  }
  let buffer = raw;
  if (file.endsWith('.gz')) {
    try {
      buffer = gunzipSync(raw);
    } catch (error) {
      throw new DatasetError(
        `${file}: corrupt gzip stream (${(error as Error).message}); reinstall the dataset`,
      );
    }
  }
  return parseIdx(buffer, file);
}

/** Images as uint8 [n, h, w] and labels as uint8 [n]. */
export interface LabelledImages {
  images: Uint8Array;
  labels: Uint8Array;
  count: number;
  height: number;
  width: number;
  numClasses: number;
}

export interface IdxSplitFiles {
  images: string;
  labels: string;
}

export async function loadIdxPair(files: IdxSplitFiles, numClasses = 10): Promise<LabelledImages> {
  const [images, labels] = await Promise.all([readIdxFile(files.images), readIdxFile(files.labels)]);
  if (images.dims.length !== 3) {
    throw new DatasetError(
      `${files.images}: expected images of rank 3 [n, h, w], got [${images.dims.join(', ')}]`,
    );
  }
  if (labels.dims.length !== 1) {
    throw new DatasetError(`${files.labels}: expected labels of rank 1 [n], got [${labels.dims.join(', ')}]`);
  }
  if (images.dims[0] !== labels.dims[0]) {
    throw new DatasetError(
      `${path.basename(files.images)} holds ${images.dims[0]} images but ${path.basename(files.labels)} ` +
        `holds ${labels.dims[0]} labels; the pair must match`,
    );
  }
  for (let i = 0; i < labels.data.length; i++) {
    if (labels.data[i] >= numClasses) {
      throw new DatasetError(
        `${files.labels}: label ${labels.data[i]} at index ${i} is outside 0..${numClasses - 1}`,
      );
    }
  }
  return {
    images: images.data,
    labels: labels.data,
    count: images.dims[0],
    height: images.dims[1],
    width: images.dims[2],
    numClasses,
  };
}

/** An IDX file of unsigned bytes (the format parseIdx reads): magic 0 0 0x08 rank, big-endian dims, data. */
export function encodeIdx(dims: readonly number[], data: Uint8Array): Buffer {
  const expected = dims.reduce((a, b) => a * b, 1);
  if (data.length !== expected)
    throw new RangeError(`IDX dims ${dims.join('×')} need ${expected} bytes, got ${data.length}`);
  const header = Buffer.alloc(4 + 4 * dims.length);
  header[2] = IDX_UNSIGNED_BYTE;
  header[3] = dims.length;
  dims.forEach((dim, i) => header.writeUInt32BE(dim, 4 + 4 * i));
  return Buffer.concat([header, data]);
}
