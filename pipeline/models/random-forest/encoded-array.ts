/**
 * Numeric arrays inside JSON artifacts: the bytes of a typed array, little-endian, in base64,
 * with the element type and count beside them. About 11 characters per float64 and 3 per
 * uint16, on one line, where a JSON number list in canonical form costs a line per number.
 */
import { Buffer } from 'node:buffer';

/** The element types an encoded array may have. */
export type ArrayType = 'uint8' | 'uint16' | 'uint32' | 'int32' | 'float64';

/** A typed array as it appears in an artifact. */
export interface EncodedArray {
  type: ArrayType;
  length: number;
  /** The elements' bytes, little-endian, in standard base64 with padding. */
  base64: string;
}

type Typed = Uint8Array | Uint16Array | Uint32Array | Int32Array | Float64Array;

const WIDTH: Record<ArrayType, number> = { uint8: 1, uint16: 2, uint32: 4, int32: 4, float64: 8 };
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function make(type: ArrayType, length: number): Typed {
  switch (type) {
    case 'uint8':
      return new Uint8Array(length);
    case 'uint16':
      return new Uint16Array(length);
    case 'uint32':
      return new Uint32Array(length);
    case 'int32':
      return new Int32Array(length);
    case 'float64':
      return new Float64Array(length);
  }
}

/** Encodes `values` as `type`; every value must fit the type (checked). */
export function encodeArray(type: ArrayType, values: ArrayLike<number>): EncodedArray {
  const typed = make(type, values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i] as number;
    typed[i] = v;
    if (typed[i] !== v) throw new RangeError(`encodeArray: ${v} does not fit ${type}`);
  }
  let bytes: Uint8Array = new Uint8Array(typed.buffer);
  if (!LITTLE_ENDIAN && WIDTH[type] > 1) bytes = swapBytes(bytes, WIDTH[type]);
  return { type, length: typed.length, base64: Buffer.from(bytes).toString('base64') };
}

/** The smallest unsigned type that holds every value in `values` (all non-negative integers). */
export function unsignedTypeFor(values: ArrayLike<number>): 'uint8' | 'uint16' | 'uint32' {
  let max = 0;
  for (let i = 0; i < values.length; i++) max = Math.max(max, values[i] as number);
  return max <= 0xff ? 'uint8' : max <= 0xffff ? 'uint16' : 'uint32';
}

/**
 * Decodes an encoded array, or returns why it cannot: not an object of the right shape, an
 * unknown type, base64 that does not hold exactly `length` elements.
 */
export function decodeArray(value: unknown): Typed | string {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return 'must be an object { type, length, base64 }';
  }
  const { type, length, base64 } = value as Record<string, unknown>;
  if (typeof type !== 'string' || !Object.hasOwn(WIDTH, type)) {
    return `type must be one of ${Object.keys(WIDTH).join(', ')}`;
  }
  if (!Number.isSafeInteger(length) || (length as number) < 0) {
    return 'length must be an integer >= 0';
  }
  if (typeof base64 !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(base64) || base64.length % 4) {
    return 'base64 must be standard base64 with padding';
  }
  const t = type as ArrayType;
  const bytes = Buffer.from(base64, 'base64');
  if (bytes.length !== (length as number) * WIDTH[t]) {
    return `base64 holds ${bytes.length} bytes, not ${length as number} ${t} values`;
  }
  const typed = make(t, length as number);
  let raw: Uint8Array = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length);
  if (!LITTLE_ENDIAN && WIDTH[t] > 1) raw = swapBytes(raw, WIDTH[t]);
  new Uint8Array(typed.buffer).set(raw);
  return typed;
}

function swapBytes(bytes: Uint8Array, width: number): Uint8Array {
  const out = new Uint8Array(bytes.length);
  for (let i = 0; i < bytes.length; i += width) {
    for (let b = 0; b < width; b++) out[i + b] = bytes[i + width - 1 - b] as number;
  }
  return out;
}
