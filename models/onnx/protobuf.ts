/**
 * The protocol-buffers wire format, read side, as far as ONNX files need it (protobuf.dev/programming-
 * guides/encoding): a message is a sequence of (field number, wire type) keys, each followed by a varint
 * (type 0), 8 bytes (type 1), a length-prefixed byte string (type 2: strings, bytes, sub-messages and
 * packed repeated scalars) or 4 bytes (type 5). Groups (types 3 and 4) are long deprecated and refused.
 */

export class ProtobufError extends Error {
  override name = 'ProtobufError';
}

export type WireValue =
  | { wire: 0; value: bigint }
  | { wire: 1; bytes: Uint8Array }
  | { wire: 2; bytes: Uint8Array }
  | { wire: 5; bytes: Uint8Array };

export interface WireField {
  field: number;
  value: WireValue;
}

/** Reads a varint at `offset`: its value (unsigned, up to 64 bits) and the offset after it. */
function readVarint(bytes: Uint8Array, offset: number): [bigint, number] {
  let result = 0n;
  let shift = 0n;
  for (let i = offset; i < bytes.length && i < offset + 10; i++) {
    const byte = bytes[i]!;
    result |= BigInt(byte & 0x7f) << shift;
    if ((byte & 0x80) === 0) return [BigInt.asUintN(64, result), i + 1];
    shift += 7n;
  }
  throw new ProtobufError(`truncated or overlong varint at byte ${offset}`);
}

/** Every field of one message, in file order (a repeated field appears once per element). */
export function readFields(bytes: Uint8Array): WireField[] {
  const fields: WireField[] = [];
  let offset = 0;
  while (offset < bytes.length) {
    const [key, afterKey] = readVarint(bytes, offset);
    const field = Number(key >> 3n);
    const wire = Number(key & 7n);
    if (field === 0) throw new ProtobufError(`field number 0 at byte ${offset}: not a protobuf message`);
    offset = afterKey;
    switch (wire) {
      case 0: {
        const [value, next] = readVarint(bytes, offset);
        fields.push({ field, value: { wire: 0, value } });
        offset = next;
        break;
      }
      case 1:
      case 5: {
        const size = wire === 1 ? 8 : 4;
        if (offset + size > bytes.length) throw new ProtobufError(`truncated fixed-size field ${field}`);
        fields.push({ field, value: { wire, bytes: bytes.subarray(offset, offset + size) } });
        offset += size;
        break;
      }
      case 2: {
        const [length, next] = readVarint(bytes, offset);
        const end = next + Number(length);
        if (end > bytes.length)
          throw new ProtobufError(
            `field ${field} claims ${length} bytes, only ${bytes.length - next} remain`,
          );
        fields.push({ field, value: { wire: 2, bytes: bytes.subarray(next, end) } });
        offset = end;
        break;
      }
      default:
        throw new ProtobufError(`unsupported wire type ${wire} for field ${field} at byte ${offset}`);
    }
  }
  return fields;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Accessors for one decoded message. */
export class Message {
  readonly fields: WireField[];

  constructor(bytes: Uint8Array) {
    this.fields = readFields(bytes);
  }

  private all(field: number): WireValue[] {
    return this.fields.filter((f) => f.field === field).map((f) => f.value);
  }

  private last(field: number): WireValue | undefined {
    const values = this.all(field);
    return values[values.length - 1];
  }

  has(field: number): boolean {
    return this.fields.some((f) => f.field === field);
  }

  /** An int64/int32/enum field as a signed number (two's complement, as protobuf encodes negatives). */
  int(field: number, fallback = 0): number {
    const value = this.last(field);
    if (value === undefined) return fallback;
    if (value.wire !== 0) throw new ProtobufError(`field ${field} is not a varint`);
    return Number(BigInt.asIntN(64, value.value));
  }

  /** A repeated int64 field, packed (one length-delimited run) or not. */
  ints(field: number): number[] {
    const out: number[] = [];
    for (const value of this.all(field)) {
      if (value.wire === 0) out.push(Number(BigInt.asIntN(64, value.value)));
      else if (value.wire === 2) {
        let offset = 0;
        while (offset < value.bytes.length) {
          const [v, next] = readVarint(value.bytes, offset);
          out.push(Number(BigInt.asIntN(64, v)));
          offset = next;
        }
      } else throw new ProtobufError(`field ${field} is not a repeated integer`);
    }
    return out;
  }

  /** A float field. */
  float(field: number, fallback = 0): number {
    const value = this.last(field);
    if (value === undefined) return fallback;
    if (value.wire !== 5) throw new ProtobufError(`field ${field} is not a 32-bit float`);
    return new DataView(value.bytes.buffer, value.bytes.byteOffset, 4).getFloat32(0, true);
  }

  /** A repeated float field, packed or not. */
  floats(field: number): number[] {
    const out: number[] = [];
    for (const value of this.all(field)) {
      if (value.wire === 5)
        out.push(new DataView(value.bytes.buffer, value.bytes.byteOffset, 4).getFloat32(0, true));
      else if (value.wire === 2) {
        if (value.bytes.length % 4 !== 0)
          throw new ProtobufError(`packed floats of field ${field}: odd length`);
        const view = new DataView(value.bytes.buffer, value.bytes.byteOffset, value.bytes.length);
        for (let i = 0; i < value.bytes.length; i += 4) out.push(view.getFloat32(i, true));
      } else throw new ProtobufError(`field ${field} is not a repeated float`);
    }
    return out;
  }

  bytes(field: number): Uint8Array | undefined {
    const value = this.last(field);
    if (value === undefined) return undefined;
    if (value.wire !== 2) throw new ProtobufError(`field ${field} is not length-delimited`);
    return value.bytes;
  }

  string(field: number, fallback = ''): string {
    const bytes = this.bytes(field);
    return bytes === undefined ? fallback : utf8.decode(bytes);
  }

  strings(field: number): string[] {
    return this.all(field).map((value) => {
      if (value.wire !== 2) throw new ProtobufError(`field ${field} is not a string`);
      return utf8.decode(value.bytes);
    });
  }

  message(field: number): Message | undefined {
    const bytes = this.bytes(field);
    return bytes === undefined ? undefined : new Message(bytes);
  }

  messages(field: number): Message[] {
    return this.all(field).map((value) => {
      if (value.wire !== 2) throw new ProtobufError(`field ${field} is not a message`);
      return new Message(value.bytes);
    });
  }
}

/** Builds one message in the wire format; fields are written in the order they are added. */
export class MessageWriter {
  private readonly chunks: Uint8Array[] = [];

  private static varint(value: bigint): Uint8Array {
    const out: number[] = [];
    let v = BigInt.asUintN(64, value);
    do {
      const byte = Number(v & 0x7fn);
      v >>= 7n;
      out.push(v > 0n ? byte | 0x80 : byte);
    } while (v > 0n);
    return Uint8Array.from(out);
  }

  private key(field: number, wire: number): void {
    this.chunks.push(MessageWriter.varint(BigInt(field * 8 + wire)));
  }

  /** An int64 / int32 / enum field (negative values as ten-byte two's complement, as protobuf does). */
  int(field: number, value: number): this {
    this.key(field, 0);
    this.chunks.push(MessageWriter.varint(BigInt(value)));
    return this;
  }

  float(field: number, value: number): this {
    this.key(field, 5);
    const bytes = new Uint8Array(4);
    new DataView(bytes.buffer).setFloat32(0, value, true);
    this.chunks.push(bytes);
    return this;
  }

  bytes(field: number, value: Uint8Array): this {
    this.key(field, 2);
    this.chunks.push(MessageWriter.varint(BigInt(value.length)), value);
    return this;
  }

  string(field: number, value: string): this {
    return this.bytes(field, new TextEncoder().encode(value));
  }

  message(field: number, value: MessageWriter): this {
    return this.bytes(field, value.finish());
  }

  /** A packed repeated int64 field. */
  packedInts(field: number, values: readonly number[]): this {
    const body = new MessageWriter();
    for (const value of values) body.chunks.push(MessageWriter.varint(BigInt(value)));
    return this.bytes(field, body.finish());
  }

  finish(): Uint8Array {
    const length = this.chunks.reduce((sum, chunk) => sum + chunk.length, 0);
    const out = new Uint8Array(length);
    let offset = 0;
    for (const chunk of this.chunks) {
      out.set(chunk, offset);
      offset += chunk.length;
    }
    return out;
  }
}
