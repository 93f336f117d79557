// The safetensors format: an 8-byte little-endian header length, a JSON header naming each tensor's dtype,
// shape and byte range, then the raw little-endian data (https://github.com/huggingface/safetensors).
import { WeightFileError } from './errors';
import {
  RAW_DTYPES,
  bytesPerElement,
  checkRawTensor,
  elementCount,
  isRawDtype,
  rawTensorBytes,
  rawTensorFromBytes,
  type RawDtype,
  type RawTensorMap,
} from './raw-tensor';

export type SafetensorsMetadata = Record<string, string>;

export interface SafetensorsContents {
  tensors: RawTensorMap;
  metadata: SafetensorsMetadata;
}

const METADATA_KEY = '__metadata__';
/** The reference implementation refuses larger headers; so do we, before decoding a bogus length. */
const MAX_HEADER_BYTES = 100_000_000;

interface HeaderEntry {
  name: string;
  dtype: RawDtype;
  shape: number[];
  begin: number;
  end: number;
}

/** Parses a safetensors file. `source` names the file in errors. */
export function readSafetensors(bytes: Uint8Array, source = 'safetensors data'): SafetensorsContents {
  if (bytes.length < 8) {
    throw new WeightFileError(source, `is ${bytes.length} bytes long, too short for a safetensors header`);
  }
  const headerLength = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
  if (headerLength > BigInt(Math.min(bytes.length - 8, MAX_HEADER_BYTES))) {
    throw new WeightFileError(
      source,
      `declares a ${headerLength}-byte header but holds only ${
        bytes.length - 8
      } bytes after the length (file truncated, or not safetensors?)`,
    );
  }
  const dataStart = 8 + Number(headerLength);
  const header = parseHeader(bytes.subarray(8, dataStart), source);
  const data = bytes.subarray(dataStart);
  const entries = headerEntries(header, data.length, source);
  const tensors: RawTensorMap = {};
  for (const e of entries) {
    tensors[e.name] = rawTensorFromBytes(e.dtype, e.shape, data.subarray(e.begin, e.end));
  }
  return { tensors, metadata: readMetadata(header[METADATA_KEY], source) };
}

function parseHeader(bytes: Uint8Array, source: string): Record<string, unknown> {
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (e) {
    throw new WeightFileError(source, `has a header that is not valid UTF-8 JSON (${(e as Error).message})`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) {
    throw new WeightFileError(source, 'has a header that is not a JSON object');
  }
  return header as Record<string, unknown>;
}

function readMetadata(value: unknown, source: string): SafetensorsMetadata {
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new WeightFileError(source, `has a ${METADATA_KEY} that is not an object of strings`);
  }
  for (const [key, v] of Object.entries(value)) {
    if (typeof v !== 'string') {
      throw new WeightFileError(source, `has ${METADATA_KEY}.${key} = ${JSON.stringify(v)}; values must be strings`);
    }
  }
  return { ...(value as SafetensorsMetadata) };
}

/** Validates every tensor's entry, and that their byte ranges fit the data and do not overlap. */
function headerEntries(header: Record<string, unknown>, dataLength: number, source: string): HeaderEntry[] {
  const entries: HeaderEntry[] = [];
  for (const [name, info] of Object.entries(header)) {
    if (name === METADATA_KEY) continue;
    // JSON.parse makes '__proto__' an own key, but assigning it to the tensor map would set its prototype.
    if (name === '__proto__') throw new WeightFileError(source, "has a tensor named '__proto__', which is not allowed");
    const { dtype, shape, data_offsets: offsets } = (info ?? {}) as Record<string, unknown>;
    if (!isRawDtype(dtype)) {
      throw new WeightFileError(source, `has dtype ${JSON.stringify(dtype)}; valid: ${RAW_DTYPES.join(', ')}`, name);
    }
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      throw new WeightFileError(source, `has shape ${JSON.stringify(shape)}; expected a list of integers >= 0`, name);
    }
    if (
      !Array.isArray(offsets) ||
      offsets.length !== 2 ||
      !offsets.every((o) => Number.isSafeInteger(o) && o >= 0) ||
      offsets[0] > offsets[1]
    ) {
      throw new WeightFileError(source, `has data_offsets ${JSON.stringify(offsets)}; expected [begin, end]`, name);
    }
    const [begin, end] = offsets as [number, number];
    const needed = elementCount(shape) * bytesPerElement(dtype);
    if (end - begin !== needed) {
      throw new WeightFileError(
        source,
        `is ${dtype} [${shape}] and needs ${needed} bytes, but its data_offsets [${begin}, ${end}] span ${end - begin}`,
        name,
      );
    }
    if (end > dataLength) {
      throw new WeightFileError(
        source,
        `has data_offsets [${begin}, ${end}] beyond the ${dataLength} data bytes the file holds (file truncated?)`,
        name,
      );
    }
    entries.push({ name, dtype, shape, begin, end });
  }
  const byPosition = [...entries].sort((a, b) => a.begin - b.begin);
  for (let i = 1; i < byPosition.length; i++) {
    const [previous, current] = [byPosition[i - 1], byPosition[i]];
    if (current.begin < previous.end) {
      throw new WeightFileError(
        source,
        `has data_offsets [${current.begin}, ${current.end}] overlapping those of '${previous.name}' [${previous.begin}, ${previous.end}]`,
        current.name,
      );
    }
  }
  return entries;
}

/**
 * Serialises tensors to the safetensors format. Tensors are laid out by decreasing element size, then by
 * name, as the reference writer does, so that every tensor starts aligned to its element size (the header is
 * padded with spaces to a multiple of 8) and readers can view the data without copying.
 */
export function writeSafetensors(
  tensors: RawTensorMap,
  metadata: SafetensorsMetadata = {},
  source = 'safetensors output',
): Uint8Array {
  const names = Object.keys(tensors).sort(
    (a, b) => bytesPerElement(tensors[b].dtype) - bytesPerElement(tensors[a].dtype) || (a < b ? -1 : a > b ? 1 : 0),
  );
  for (const name of names) checkRawTensor(source, name, tensors[name]);
  for (const [key, value] of Object.entries(metadata)) {
    if (typeof value !== 'string') {
      throw new WeightFileError(
        source,
        `metadata '${key}' is ${typeof value}; safetensors metadata values must be strings`,
      );
    }
  }
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0) header[METADATA_KEY] = metadata;
  let offset = 0;
  for (const name of names) {
    const { dtype, shape } = tensors[name];
    const size = rawTensorBytes(tensors[name]).byteLength;
    header[name] = { dtype, shape, data_offsets: [offset, offset + size] };
    offset += size;
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  const headerLength = Math.ceil(json.length / 8) * 8;
  const out = new Uint8Array(8 + headerLength + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerLength), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + headerLength);
  let position = 8 + headerLength;
  for (const name of names) {
    const data = rawTensorBytes(tensors[name]);
    out.set(data, position);
    position += data.byteLength;
  }
  return out;
}
