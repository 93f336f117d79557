// What a PyTorch checkpoint's pickle may contain, and how its tensors are rebuilt from storages. Only the
// globals a `torch.save(state_dict)` pickle names are allowed; each one builds a plain description here
// (a storage reference, a tensor view) and the bytes are read afterwards, by whoever knows the container.
import { WeightFileError } from './errors';
import { PickleDict, describe, isPickleTuple, type PickleGlobal } from './pickle';
import {
  bytesPerElement,
  elementCount,
  rawTensorFromBytes,
  viewElements,
  type RawDtype,
  type RawTensor,
  type RawTensorMap,
} from './raw-tensor';

/** Deepest nesting of dicts and lists accepted: Python's default recursion limit, beyond which torch.save fails. */
const MAX_NESTING = 1000;
/** Values visited at most when collecting tensors (shared containers are walked once per reference). */
const MAX_VISITS = 1_000_000;

/** `torch.<X>Storage` classes (markers of the element type in a storage's persistent id). */
const STORAGE_DTYPES: Record<string, RawDtype> = {
  FloatStorage: 'F32',
  DoubleStorage: 'F64',
  HalfStorage: 'F16',
  BFloat16Storage: 'BF16',
  LongStorage: 'I64',
  IntStorage: 'I32',
  ShortStorage: 'I16',
  CharStorage: 'I8',
  ByteStorage: 'U8',
  BoolStorage: 'BOOL',
};

/** A storage a checkpoint refers to: its key (zip entry name, or legacy id), element type and size. */
export class StorageRef {
  constructor(readonly key: string, readonly dtype: RawDtype, readonly numel: number) {}
}

/** A tensor as `_rebuild_tensor_v2` describes it: a strided view into a storage. */
export class TensorRef {
  constructor(
    readonly storage: StorageRef,
    readonly offset: number,
    readonly shape: readonly number[],
    readonly stride: readonly number[],
  ) {}
}

interface StorageType extends PickleGlobal {
  readonly dtype: RawDtype;
}

function isIntTuple(value: unknown): value is readonly number[] {
  return isPickleTuple(value) && value.every((v) => Number.isSafeInteger(v) && (v as number) >= 0);
}

/**
 * `_rebuild_tensor(_v2)(storage, storage_offset, size, stride, ...)`: the further arguments (requires_grad,
 * backward hooks, metadata) do not matter for weights.
 */
function rebuildTensor(args: readonly unknown[]): TensorRef {
  const [storage, offset, shape, stride] = args;
  if (
    !(storage instanceof StorageRef) ||
    !Number.isSafeInteger(offset) ||
    (offset as number) < 0 ||
    !isIntTuple(shape) ||
    !isIntTuple(stride) ||
    shape.length !== stride.length
  ) {
    throw new Error(`expects (storage, offset, size, stride), got (${args.map(describe).join(', ')})`);
  }
  return new TensorRef(storage, offset as number, [...shape], [...stride]);
}

/** The globals a state-dict pickle may name, for `unpickle`. */
export function torchPickleGlobals(): ReadonlyMap<string, PickleGlobal> {
  const globals: PickleGlobal[] = [
    { qualifiedName: 'collections.OrderedDict', call: () => new PickleDict() },
    { qualifiedName: 'torch._utils._rebuild_tensor', call: rebuildTensor },
    { qualifiedName: 'torch._utils._rebuild_tensor_v2', call: rebuildTensor },
    {
      qualifiedName: 'torch._utils._rebuild_parameter',
      call: ([data]) => {
        if (!(data instanceof TensorRef)) throw new Error(`expects a tensor, got ${describe(data)}`);
        return data;
      },
    },
  ];
  const storageTypes = Object.entries(STORAGE_DTYPES).map(
    ([name, dtype]): StorageType => ({ qualifiedName: `torch.${name}`, dtype }),
  );
  return new Map([...globals, ...storageTypes].map((g) => [g.qualifiedName, g]));
}

/**
 * Reads a storage's persistent id: `('storage', storage_type, key, location, numel)`, followed in the legacy
 * format by a view description that PyTorch >= 1.0 always writes as None.
 */
export function storageFromPersistentId(id: unknown, source: string): StorageRef {
  if (!isPickleTuple(id) || id[0] !== 'storage') {
    const kind = isPickleTuple(id) ? `'${String(id[0])}'` : describe(id);
    throw new WeightFileError(
      source,
      `has a persistent reference to ${kind}; only storages are allowed (a whole pickled nn.Module? save its state_dict instead)`,
    );
  }
  const [, type, key, , numel, view] = id;
  const dtype = (type as Partial<StorageType> | null)?.dtype;
  if (dtype === undefined || typeof key !== 'string' || !Number.isSafeInteger(numel)) {
    throw new WeightFileError(source, `has a malformed storage reference (${id.map(describe).join(', ')})`);
  }
  if (view !== undefined && view !== null) {
    throw new WeightFileError(
      source,
      `storage '${key}' is a storage view (written by PyTorch before 1.0), which is not supported`,
    );
  }
  return new StorageRef(key, dtype, numel as number);
}

/**
 * The tensors of a checkpoint's top-level object by name. A state dict gives its own names; dicts nested in
 * it (`{'state_dict': {...}, 'epoch': 3}`) and lists give dotted names (`state_dict.conv.weight`,
 * `history.0`); values that are not tensors (numbers, strings, None) are skipped.
 */
export function collectTensors(root: unknown, source: string): Map<string, TensorRef> {
  if (!(root instanceof PickleDict)) {
    throw new WeightFileError(source, `holds ${describe(root)} at the top level, not a dict of tensors (a state dict)`);
  }
  const found = new Map<string, TensorRef>();
  // Walked with an explicit stack, not recursion: a pickle can nest containers arbitrarily deep, or make a
  // container hold itself through the memo. Python cannot pickle beyond its recursion limit (1000) either.
  const pending: { value: unknown; name: string; depth: number }[] = [{ value: root, name: '', depth: 0 }];
  let visits = 0;
  while (pending.length > 0) {
    const { value, name, depth } = pending.pop()!;
    if (++visits > MAX_VISITS) {
      throw new WeightFileError(source, `holds more than ${MAX_VISITS} values once shared containers are expanded (malformed or hostile pickle)`);
    }
    if (value instanceof TensorRef) {
      if (name === '__proto__') throw new WeightFileError(source, "has a tensor named '__proto__', which is not allowed");
      if (found.has(name))
        throw new WeightFileError(source, 'appears twice once nested names are joined with dots', name);
      found.set(name, value);
      continue;
    }
    const children: { value: unknown; name: string; depth: number }[] = [];
    const child = (key: string | number, item: unknown) =>
      children.push({ value: item, name: name === '' ? String(key) : `${name}.${key}`, depth: depth + 1 });
    if (value instanceof PickleDict) {
      for (const [key, item] of value.entries) {
        if (typeof key !== 'string' && typeof key !== 'number') {
          throw new WeightFileError(
            source,
            `has a dict key that is ${describe(key)}, not a string${name ? ` under '${name}'` : ''}`,
          );
        }
        child(key, item);
      }
    } else if (Array.isArray(value)) {
      value.forEach((item, i) => child(i, item));
    }
    if (children.length > 0 && depth + 1 > MAX_NESTING) {
      throw new WeightFileError(source, `nests containers deeper than ${MAX_NESTING} levels at '${name}' (a container holding itself?)`);
    }
    for (let i = children.length - 1; i >= 0; i--) pending.push(children[i]);
  }
  return found;
}

/**
 * Copies a tensor's elements out of its storage's bytes, contiguous and row-major (strided views, offsets
 * and stride-0 expansions included). `storageBytes` may be shorter than the reference says when the file
 * is cut: then the error names the tensor and what is missing.
 */
export function materialiseTensor(name: string, ref: TensorRef, storageBytes: Uint8Array, source: string): RawTensor {
  const { storage, offset, shape, stride } = ref;
  const itemSize = bytesPerElement(storage.dtype);
  const numel = elementCount(shape);
  const lastIndex = shape.reduce((sum, size, d) => sum + (size - 1) * stride[d], offset);
  const neededBytes = numel === 0 ? 0 : (lastIndex + 1) * itemSize;
  const heldBytes = Math.min(storageBytes.length, storage.numel * itemSize);
  if (neededBytes > heldBytes) {
    const cause = storageBytes.length < storage.numel * itemSize ? ' (file truncated?)' : '';
    throw new WeightFileError(
      source,
      `needs ${neededBytes} bytes of storage '${storage.key}' but the archive holds ${heldBytes}${cause}`,
      name,
    );
  }
  if (isContiguous(shape, stride)) {
    return rawTensorFromBytes(
      storage.dtype,
      [...shape],
      storageBytes.subarray(offset * itemSize, (offset + numel) * itemSize),
    );
  }
  const elements = viewElements(storage.dtype, storageBytes.subarray(0, neededBytes));
  const result = viewElements(storage.dtype, new Uint8Array(numel * itemSize));
  gather(elements as ElementArray, result as ElementArray, offset, shape, stride);
  return { dtype: storage.dtype, shape: [...shape], data: result };
}

function isContiguous(shape: readonly number[], stride: readonly number[]): boolean {
  let expected = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    if (shape[d] !== 1 && stride[d] !== expected) return false;
    expected *= shape[d];
  }
  return true;
}

/** Any of the raw typed arrays, element by element (source and target always share their class). */
interface ElementArray {
  [index: number]: number | bigint;
  readonly length: number;
}

/** Row-major walk over `shape`, reading `source[offset + Σ index·stride]`. */
function gather(
  source: ElementArray,
  target: ElementArray,
  offset: number,
  shape: readonly number[],
  stride: readonly number[],
): void {
  const index = new Array<number>(shape.length).fill(0);
  let at = offset;
  for (let i = 0; i < target.length; i++) {
    target[i] = source[at];
    for (let d = shape.length - 1; d >= 0; d--) {
      index[d]++;
      at += stride[d];
      if (index[d] < shape[d]) break;
      at -= stride[d] * shape[d];
      index[d] = 0;
    }
  }
}

/**
 * Tensors may come out larger than their file (tensors sharing a storage each get a copy; stride-0 views
 * expand), but not without bound: beyond this multiple of the file (plus a margin) a checkpoint is refused,
 * so that a few bytes declaring a [10⁹] expanded view cannot make the reader allocate gigabytes.
 */
const MAX_EXPANSION = 8;
const EXPANSION_MARGIN = 64 * 2 ** 20;

/**
 * Materialises every tensor of `refs`, reading each storage's bytes once through `storageBytes`.
 * `fileBytes` is the size of the checkpoint, which bounds what it may expand to.
 */
export function materialiseAll(
  refs: ReadonlyMap<string, TensorRef>,
  storageBytes: (storage: StorageRef) => Uint8Array,
  source: string,
  fileBytes: number,
): RawTensorMap {
  const cache = new Map<string, Uint8Array>();
  const tensors: RawTensorMap = {};
  const budget = MAX_EXPANSION * fileBytes + EXPANSION_MARGIN;
  let total = 0;
  for (const [name, ref] of refs) {
    total += elementCount(ref.shape) * bytesPerElement(ref.storage.dtype);
    if (total > budget) {
      throw new WeightFileError(
        source,
        `would expand to more than ${budget} bytes of tensors from a ${fileBytes}-byte file (shape [${ref.shape}] of a ${ref.storage.numel}-element storage); refusing a malformed or hostile checkpoint`,
        name,
      );
    }
    let bytes = cache.get(ref.storage.key);
    if (bytes === undefined) {
      bytes = storageBytes(ref.storage);
      cache.set(ref.storage.key, bytes);
    }
    tensors[name] = materialiseTensor(name, ref, bytes, source);
  }
  return tensors;
}
