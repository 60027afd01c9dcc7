/**
 * A minimal WebAssembly assembler: just enough to write a few SIMD loops by hand and run them on the tfjs
 * wasm backend's own memory (so kernels read and write tensors in place, with no copies).
 *
 * Why by hand: the loops that dominate training time outside XNNPACK (depthwise filter gradients, max-pool
 * gradients, per-channel reductions) run 4–8× faster as wasm SIMD than as JavaScript, and no wasm
 * toolchain is available to build them; the binary format for straight-line loops is small.
 */

/** Value types. */
export const I32 = 0x7f as const;
export const F32 = 0x7d as const;
export const F64 = 0x7c as const;
export const V128 = 0x7b as const;
export type ValueType = typeof I32 | typeof F32 | typeof F64 | typeof V128;

function unsignedLeb(value: number): number[] {
  const bytes: number[] = [];
  let rest = value >>> 0;
  do {
    let byte = rest & 0x7f;
    rest >>>= 7;
    if (rest !== 0) byte |= 0x80;
    bytes.push(byte);
  } while (rest !== 0);
  return bytes;
}

function signedLeb(value: number): number[] {
  const bytes: number[] = [];
  let rest = value | 0;
  for (;;) {
    const byte = rest & 0x7f;
    rest >>= 7;
    const done = (rest === 0 && (byte & 0x40) === 0) || (rest === -1 && (byte & 0x40) !== 0);
    bytes.push(done ? byte : byte | 0x80);
    if (done) return bytes;
  }
}

function vector(items: number[][]): number[] {
  return [...unsignedLeb(items.length), ...items.flat()];
}

/** A length-prefixed ASCII name. */
function name(text: string): number[] {
  return [...unsignedLeb(text.length), ...[...text].map((ch) => ch.charCodeAt(0))];
}

function section(id: number, payload: number[]): number[] {
  return [id, ...unsignedLeb(payload.length), ...payload];
}

function simd(opcode: number): number[] {
  return [0xfd, ...unsignedLeb(opcode)];
}

/** Emits one function body. Locals are numbered after the parameters, in declaration order. */
export class FunctionBuilder {
  readonly code: number[] = [];
  private readonly localTypes: ValueType[] = [];

  constructor(
    readonly name: string,
    readonly params: ValueType[],
  ) {}

  /** Declares a local and returns its index. */
  local(type: ValueType): number {
    this.localTypes.push(type);
    return this.params.length + this.localTypes.length - 1;
  }

  private emit(...bytes: number[]): this {
    this.code.push(...bytes);
    return this;
  }

  // Variables and constants.
  get(index: number): this {
    return this.emit(0x20, ...unsignedLeb(index));
  }
  set(index: number): this {
    return this.emit(0x21, ...unsignedLeb(index));
  }
  tee(index: number): this {
    return this.emit(0x22, ...unsignedLeb(index));
  }
  i32(value: number): this {
    return this.emit(0x41, ...signedLeb(value));
  }
  f32(value: number): this {
    const bytes = new Uint8Array(new Float32Array([value]).buffer);
    return this.emit(0x43, ...bytes);
  }
  /** select: pops a, b, condition; pushes a when condition ≠ 0, else b. */
  select(): this {
    return this.emit(0x1b);
  }
  f64(value: number): this {
    const bytes = new Uint8Array(new Float64Array([value]).buffer);
    return this.emit(0x44, ...bytes);
  }

  // i32 arithmetic and comparisons (signed).
  add(): this {
    return this.emit(0x6a);
  }
  sub(): this {
    return this.emit(0x6b);
  }
  mul(): this {
    return this.emit(0x6c);
  }
  shl(): this {
    return this.emit(0x74);
  }
  divS(): this {
    return this.emit(0x6d);
  }
  remS(): this {
    return this.emit(0x6f);
  }
  ltS(): this {
    return this.emit(0x48);
  }
  geS(): this {
    return this.emit(0x4e);
  }
  gtS(): this {
    return this.emit(0x4a);
  }
  eqz(): this {
    return this.emit(0x45);
  }
  /** Unsigned less-than: `i <u n` is 0 ≤ i < n for a signed i (negatives wrap to huge values). */
  ltU(): this {
    return this.emit(0x49);
  }

  and(): this {
    return this.emit(0x71);
  }
  xor(): this {
    return this.emit(0x73);
  }
  shrU(): this {
    return this.emit(0x76);
  }
  eq(): this {
    return this.emit(0x46);
  }

  // Scalar memory (natural alignment, zero offset unless given).
  f32Load(offset = 0): this {
    return this.emit(0x2a, 2, ...unsignedLeb(offset));
  }
  f32Store(offset = 0): this {
    return this.emit(0x38, 2, ...unsignedLeb(offset));
  }
  f64Load(offset = 0): this {
    return this.emit(0x2b, 3, ...unsignedLeb(offset));
  }
  f64Store(offset = 0): this {
    return this.emit(0x39, 3, ...unsignedLeb(offset));
  }
  i32Load(offset = 0): this {
    return this.emit(0x28, 2, ...unsignedLeb(offset));
  }
  f32Add(): this {
    return this.emit(0x92);
  }
  f32Mul(): this {
    return this.emit(0x94);
  }
  f64Add(): this {
    return this.emit(0xa0);
  }
  f64PromoteF32(): this {
    return this.emit(0xbb);
  }
  i32Store(offset = 0): this {
    return this.emit(0x36, 2, ...unsignedLeb(offset));
  }
  f32Ne(): this {
    return this.emit(0x5c);
  }
  f64Mul(): this {
    return this.emit(0xa2);
  }
  f64Sqrt(): this {
    return this.emit(0x9f);
  }
  f64Floor(): this {
    return this.emit(0x9c);
  }
  f64Abs(): this {
    return this.emit(0x99);
  }
  /** f64 → i32, truncating toward zero (traps outside the i32 range). */
  i32TruncF64S(): this {
    return this.emit(0xaa);
  }
  f64ConvertI32S(): this {
    return this.emit(0xb7);
  }
  f64Min(): this {
    return this.emit(0xa4);
  }
  f64Max(): this {
    return this.emit(0xa5);
  }
  f64Gt(): this {
    return this.emit(0x64);
  }
  f64Lt(): this {
    return this.emit(0x63);
  }
  f32DemoteF64(): this {
    return this.emit(0xb6);
  }

  // SIMD (v128 loads/stores declare 4-byte alignment: tensors are float-aligned, not 16-byte aligned).
  v128Load(offset = 0): this {
    return this.emit(...simd(0x00), 2, ...unsignedLeb(offset));
  }
  v128Store(offset = 0): this {
    return this.emit(...simd(0x0b), 2, ...unsignedLeb(offset));
  }
  /**
   * The high two f32 lanes moved to the low half (for promoting them to f64x2). i8x16.shuffle takes two
   * vectors: push the same vector twice.
   */
  f32x4HighToLow(): this {
    this.emit(...simd(0x0d), 8, 9, 10, 11, 12, 13, 14, 15, 8, 9, 10, 11, 12, 13, 14, 15);
    return this;
  }
  f32x4Splat(): this {
    return this.emit(...simd(0x13));
  }
  i32x4Splat(): this {
    return this.emit(...simd(0x11));
  }
  v128And(): this {
    return this.emit(...simd(0x4e));
  }
  v128Xor(): this {
    return this.emit(...simd(0x51));
  }
  i32x4Shl(): this {
    return this.emit(...simd(0xab));
  }
  i32x4ShrU(): this {
    return this.emit(...simd(0xad));
  }
  i32x4ExtractLane(lane: number): this {
    return this.emit(...simd(0x1b), lane);
  }
  f32x4ExtractLane(lane: number): this {
    return this.emit(...simd(0x1f), lane);
  }
  f32x4Gt(): this {
    return this.emit(...simd(0x44));
  }
  v128Bitselect(): this {
    return this.emit(...simd(0x52));
  }
  f32x4Add(): this {
    return this.emit(...simd(0xe4));
  }
  f32x4Sub(): this {
    return this.emit(...simd(0xe5));
  }
  f32x4Mul(): this {
    return this.emit(...simd(0xe6));
  }
  f64x2PromoteLowF32x4(): this {
    return this.emit(...simd(0x5f));
  }
  /** v128.load64_splat: 8 bytes (two f32) into both halves. */
  v128Load64Splat(offset = 0): this {
    return this.emit(...simd(0x0a), 2, ...unsignedLeb(offset));
  }
  f64x2Splat(): this {
    return this.emit(...simd(0x14));
  }
  f64x2ReplaceLane(lane: number): this {
    return this.emit(...simd(0x22), lane);
  }
  f64x2Mul(): this {
    return this.emit(...simd(0xf2));
  }
  f64x2Floor(): this {
    return this.emit(...simd(0x75));
  }
  /** Pseudo-minimum: `b < a ? b : a` per lane (one instruction; no NaN rules). */
  f64x2Pmin(): this {
    return this.emit(...simd(0xf6));
  }
  /** Pseudo-maximum: `a < b ? b : a` per lane. */
  f64x2Pmax(): this {
    return this.emit(...simd(0xf7));
  }
  f64x2Add(): this {
    return this.emit(...simd(0xf0));
  }

  // Structured control flow.
  /** `for (i = start; i < end; i += step) body` with i, start, end, step as locals/params (end re-read). */
  forRange(
    index: number,
    start: () => void,
    end: () => void,
    step: number | (() => void),
    body: () => void,
  ): this {
    start();
    this.set(index);
    this.emit(0x02, 0x40); // block
    this.get(index);
    end();
    this.geS();
    this.emit(0x0d, 0); // br_if 0: exit when index >= end
    this.emit(0x03, 0x40); // loop
    body();
    this.get(index);
    if (typeof step === 'number') this.i32(step);
    else step();
    this.add().tee(index);
    end();
    this.ltS();
    this.emit(0x0d, 0); // br_if 0: continue while index < end
    this.emit(0x0b); // end loop
    this.emit(0x0b); // end block
    return this;
  }

  /** `for (index = 0; index < count; index++) body` with count a local or param (the usual nest level). */
  forCount(index: number, count: number, body: () => void): this {
    return this.forRange(
      index,
      () => this.i32(0),
      () => this.get(count),
      1,
      body,
    );
  }

  /** `if (condition) body`: the condition is whatever `condition` pushes (an i32). */
  when(condition: () => void, body: () => void): this {
    condition();
    this.emit(0x04, 0x40);
    body();
    return this.emit(0x0b);
  }

  /** `if (condition) then else otherwise`: the condition is whatever `condition` pushes (an i32). */
  ifElse(condition: () => void, then: () => void, otherwise: () => void): this {
    condition();
    this.emit(0x04, 0x40);
    then();
    this.emit(0x05);
    otherwise();
    return this.emit(0x0b);
  }

  /** Encoded body: local declarations then code. */
  body(): number[] {
    const groups: number[][] = [];
    for (const type of this.localTypes) groups.push([1, type]);
    const payload = [...vector(groups), ...this.code, 0x0b];
    return [...unsignedLeb(payload.length), ...payload];
  }
}

/**
 * A function taking the i32 parameters `names` (then `extra` of other types), with each named parameter's
 * index: the kernels address their parameters by name, and the list fixes the order callers pass them in.
 */
export function functionWithParameters<Name extends string>(
  functionName: string,
  names: readonly Name[],
  extra: ValueType[] = [],
): { f: FunctionBuilder; p: Record<Name, number> } {
  const f = new FunctionBuilder(functionName, [...names.map((): ValueType => I32), ...extra]);
  const p = Object.fromEntries(names.map((parameter, index) => [parameter, index])) as Record<Name, number>;
  return { f, p };
}

/** A module importing `env.memory` and exporting the functions (no results: they write to memory). */
export function assembleModule(functions: FunctionBuilder[]): Uint8Array {
  const types = functions.map((f) => [0x60, ...vector(f.params.map((t) => [t])), 0]);
  const memoryImport = [
    ...name('env'),
    ...name('memory'),
    0x02, // an imported memory
    0x00, // limits: min only
    0x01, // min 1 page: the imported memory is whatever size the backend made it
  ];
  const exports = functions.map((f, index) => [
    ...name(f.name),
    0x00, // a function
    ...unsignedLeb(index),
  ]);
  return new Uint8Array([
    0x00,
    0x61,
    0x73,
    0x6d,
    0x01,
    0x00,
    0x00,
    0x00,
    ...section(1, vector(types)),
    ...section(2, vector([memoryImport])),
    ...section(3, vector(functions.map((_, index) => unsignedLeb(index)))),
    ...section(7, vector(exports)),
    ...section(10, vector(functions.map((f) => f.body()))),
  ]);
}
