// A pickle virtual machine that only builds data. Python's unpickler calls whatever a file names, so a
// malicious checkpoint can run code; this one knows no functions itself and calls only the globals its
// caller allows (for PyTorch checkpoints: tensor rebuilders and storage types, see torch-pickle.ts).
// Opcodes that exist to build arbitrary objects (INST, OBJ, NEWOBJ, EXT*) are refused outright.
import { WeightFileError } from './errors';
import { OP, OPCODE_NAMES } from './pickle-opcodes';

/** A global the caller allows, e.g. `collections.OrderedDict`. Without `call` it is only a marker value. */
export interface PickleGlobal {
  readonly qualifiedName: string;
  readonly call?: (args: readonly unknown[]) => unknown;
}

/** A Python dict (or OrderedDict): insertion-ordered entries, plus the state BUILD gave it, if any. */
export class PickleDict {
  readonly entries = new Map<unknown, unknown>();
  state: unknown = undefined;
}

/** Python tuples are frozen arrays; lists are plain arrays. */
export function isPickleTuple(value: unknown): value is readonly unknown[] {
  return Array.isArray(value) && Object.isFrozen(value);
}

export interface UnpickleOptions {
  /** Names the file in errors. */
  source: string;
  /** The globals the pickle may name, by `module.name`. Every other one is refused. */
  globals: ReadonlyMap<string, PickleGlobal>;
  /** Resolves BINPERSID references; without it they are refused. */
  persistentLoad?: (id: unknown) => unknown;
}

export interface UnpickleResult {
  value: unknown;
  /** Offset just past the STOP opcode: where a following pickle starts. */
  end: number;
}

const HIGHEST_PROTOCOL = 5;
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Runs the pickle that starts at `offset` and returns the object it builds. */
export function unpickle(bytes: Uint8Array, offset: number, options: UnpickleOptions): UnpickleResult {
  return new Machine(bytes, offset, options).run();
}

class Machine {
  private readonly view: DataView;
  private position: number;
  private opcodeStart = 0;
  private stack: unknown[] = [];
  private readonly marks: number[] = [];
  private readonly memo = new Map<number, unknown>();

  constructor(private readonly bytes: Uint8Array, offset: number, private readonly options: UnpickleOptions) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.position = offset;
  }

  run(): UnpickleResult {
    for (;;) {
      this.opcodeStart = this.position;
      const opcode = this.take(1)[0];
      if (opcode === OP.STOP) return { value: this.pop(), end: this.position };
      this.step(opcode);
    }
  }

  private step(opcode: number): void {
    switch (opcode) {
      case OP.PROTO: {
        const protocol = this.take(1)[0];
        if (protocol > HIGHEST_PROTOCOL)
          throw this.error(`uses pickle protocol ${protocol}; supported: 2 to ${HIGHEST_PROTOCOL}`);
        return;
      }
      case OP.FRAME: // a length hint for buffered readers; the whole pickle is in memory already.
        this.take(8);
        return;
      case OP.MARK:
        this.marks.push(this.stack.length);
        return;
      case OP.POP:
        this.pop();
        return;
      case OP.POP_MARK:
        this.popMark();
        return;
      case OP.GLOBAL: {
        const module = this.readLine();
        this.push(this.resolveGlobal(module, this.readLine()));
        return;
      }
      case OP.STACK_GLOBAL: {
        const name = this.pop();
        const module = this.pop();
        if (typeof module !== 'string' || typeof name !== 'string') throw this.error('STACK_GLOBAL needs two strings');
        this.push(this.resolveGlobal(module, name));
        return;
      }
      case OP.BINPUT:
        this.memo.set(this.take(1)[0], this.top());
        return;
      case OP.LONG_BINPUT:
        this.memo.set(this.uint32(), this.top());
        return;
      case OP.MEMOIZE:
        this.memo.set(this.memo.size, this.top());
        return;
      case OP.BINGET:
        this.push(this.memoGet(this.take(1)[0]));
        return;
      case OP.LONG_BINGET:
        this.push(this.memoGet(this.uint32()));
        return;
      case OP.EMPTY_TUPLE:
        this.push(Object.freeze([]));
        return;
      case OP.TUPLE:
        this.push(Object.freeze(this.popMark()));
        return;
      case OP.TUPLE1:
      case OP.TUPLE2:
      case OP.TUPLE3: {
        const n = opcode - OP.TUPLE1 + 1;
        if (this.stack.length < n) throw this.error(`needs ${n} items on the stack`);
        this.push(Object.freeze(this.stack.splice(this.stack.length - n)));
        return;
      }
      case OP.EMPTY_LIST:
        this.push([]);
        return;
      case OP.APPEND:
        this.list(this.stack.length - 2).push(this.pop());
        return;
      case OP.APPENDS: {
        const items = this.popMark();
        const list = this.list(this.stack.length - 1);
        for (const item of items) list.push(item); // not push(...items): a long MARK run overflows the call stack
        return;
      }
      case OP.EMPTY_DICT:
        this.push(new PickleDict());
        return;
      case OP.SETITEM: {
        const value = this.pop();
        const key = this.pop();
        this.dict(this.stack.length - 1).entries.set(key, value);
        return;
      }
      case OP.SETITEMS: {
        const items = this.popMark();
        if (items.length % 2 !== 0) throw this.error('SETITEMS needs key/value pairs');
        const dict = this.dict(this.stack.length - 1);
        for (let i = 0; i < items.length; i += 2) dict.entries.set(items[i], items[i + 1]);
        return;
      }
      case OP.BINUNICODE:
        this.push(this.decodeUtf8(this.take(this.uint32())));
        return;
      case OP.SHORT_BINUNICODE:
        this.push(this.decodeUtf8(this.take(this.take(1)[0])));
        return;
      case OP.BINSTRING: // Python 2 str: bytes, read as Latin-1 like Python 3's encoding='latin1'
        this.push(latin1(this.take(this.int32())));
        return;
      case OP.SHORT_BINSTRING:
        this.push(latin1(this.take(this.take(1)[0])));
        return;
      case OP.BININT:
        this.push(this.int32());
        return;
      case OP.BININT1:
        this.push(this.take(1)[0]);
        return;
      case OP.BININT2:
        this.push(this.view.getUint16(this.advance(2), true));
        return;
      case OP.LONG1:
        this.push(littleEndianSigned(this.take(this.take(1)[0])));
        return;
      case OP.BINFLOAT: // big-endian, unlike everything else
        this.push(this.view.getFloat64(this.advance(8), false));
        return;
      case OP.NONE:
        this.push(null);
        return;
      case OP.NEWTRUE:
        this.push(true);
        return;
      case OP.NEWFALSE:
        this.push(false);
        return;
      case OP.REDUCE: {
        const args = this.pop();
        const callable = this.pop();
        this.push(this.call(callable, args));
        return;
      }
      case OP.BUILD: {
        const state = this.pop();
        const target = this.top();
        if (!(target instanceof PickleDict))
          throw this.error(`BUILD can only set the state of a dict, not of ${describe(target)}`);
        target.state = state;
        return;
      }
      case OP.BINPERSID: {
        const id = this.pop();
        if (this.options.persistentLoad === undefined)
          throw this.error('has a persistent reference (BINPERSID), which this file kind does not allow');
        this.push(this.options.persistentLoad(id));
        return;
      }
      default: {
        const name = OPCODE_NAMES.get(opcode);
        throw this.error(
          name === undefined
            ? `has unknown pickle opcode 0x${hex(opcode)}`
            : `uses pickle opcode ${name} (0x${hex(
                opcode,
              )}), which is not allowed: a weight file only needs plain data`,
        );
      }
    }
  }

  private resolveGlobal(module: string, name: string): PickleGlobal {
    const qualified = `${module}.${name}`;
    const resolved = this.options.globals.get(qualified);
    if (resolved === undefined) {
      const allowed = [...this.options.globals.keys()].join(', ');
      throw this.error(
        `names the global '${qualified}', which is not allowed (loading never runs code); allowed: ${allowed}`,
      );
    }
    return resolved;
  }

  private call(callable: unknown, args: unknown): unknown {
    const global = callable as Partial<PickleGlobal> | null;
    if (typeof global?.call !== 'function')
      throw this.error(`REDUCE calls ${describe(callable)}, which is not callable`);
    if (!isPickleTuple(args))
      throw this.error(`REDUCE calls ${global.qualifiedName} with ${describe(args)} instead of a tuple`);
    try {
      return global.call(args);
    } catch (e) {
      if (e instanceof WeightFileError) throw e;
      throw this.error(`${global.qualifiedName}: ${(e as Error).message}`);
    }
  }

  private error(message: string): WeightFileError {
    return new WeightFileError(this.options.source, `${message} (pickle byte ${this.opcodeStart})`);
  }

  private advance(n: number): number {
    const start = this.position;
    // A negative length (BINSTRING's is signed) would move the reader backwards: refused, or it could loop.
    if (n < 0) throw this.error(`declares a negative length ${n} (malformed pickle)`);
    if (start + n > this.bytes.length) {
      const name = OPCODE_NAMES.get(this.bytes[this.opcodeStart]) ?? 'opcode';
      throw this.error(`ends inside ${name}, the pickle is cut short (file truncated?)`);
    }
    this.position += n;
    return start;
  }

  private take(n: number): Uint8Array {
    const start = this.advance(n);
    return this.bytes.subarray(start, start + n);
  }

  private uint32(): number {
    return this.view.getUint32(this.advance(4), true);
  }

  private int32(): number {
    return this.view.getInt32(this.advance(4), true);
  }

  private readLine(): string {
    const end = this.bytes.indexOf(0x0a, this.position);
    if (end < 0) throw this.error('has a GLOBAL without its newline (file truncated?)');
    return latin1(this.take(end - this.position + 1).subarray(0, -1));
  }

  private decodeUtf8(bytes: Uint8Array): string {
    try {
      return utf8.decode(bytes);
    } catch {
      throw this.error('has a string that is not valid UTF-8');
    }
  }

  private push(value: unknown): void {
    this.stack.push(value);
  }

  private pop(): unknown {
    if (this.stack.length === 0 || this.stack.length === this.marks[this.marks.length - 1]) {
      throw this.error('pops an empty stack (malformed pickle)');
    }
    return this.stack.pop();
  }

  private top(): unknown {
    if (this.stack.length === 0) throw this.error('reads an empty stack (malformed pickle)');
    return this.stack[this.stack.length - 1];
  }

  private popMark(): unknown[] {
    const mark = this.marks.pop();
    if (mark === undefined) throw this.error('needs a MARK that is not there (malformed pickle)');
    return this.stack.splice(mark);
  }

  /** An item below the top that an opcode works on must exist, and must not lie below the current MARK. */
  private checkIndex(index: number): void {
    if (index < 0 || index < (this.marks[this.marks.length - 1] ?? 0)) {
      throw this.error('works on an item the stack does not hold (malformed pickle)');
    }
  }

  private memoGet(key: number): unknown {
    if (!this.memo.has(key)) throw this.error(`reads memo slot ${key}, which was never written (malformed pickle)`);
    return this.memo.get(key);
  }

  private list(index: number): unknown[] {
    this.checkIndex(index);
    const target = this.stack[index];
    if (!Array.isArray(target) || isPickleTuple(target)) throw this.error(`appends to ${describe(target)}, not a list`);
    return target;
  }

  private dict(index: number): PickleDict {
    this.checkIndex(index);
    const target = this.stack[index];
    if (!(target instanceof PickleDict)) throw this.error(`sets an item of ${describe(target)}, not a dict`);
    return target;
  }
}

function latin1(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return s;
}

/** Python ints of any size: a number when exact, a bigint otherwise. */
function littleEndianSigned(bytes: Uint8Array): number | bigint {
  let value = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) value = (value << 8n) | BigInt(bytes[i]);
  if (bytes.length > 0 && bytes[bytes.length - 1] & 0x80) value -= 1n << BigInt(8 * bytes.length);
  const asNumber = Number(value);
  return Number.isSafeInteger(asNumber) ? asNumber : value;
}

function hex(byte: number): string {
  return byte.toString(16).padStart(2, '0');
}

/** A short description of a pickled value, for errors. */
export function describe(value: unknown): string {
  if (value === null) return 'None';
  if (value === undefined) return 'nothing';
  if (value instanceof PickleDict) return 'a dict';
  if (isPickleTuple(value)) return `a tuple of ${value.length}`;
  if (Array.isArray(value)) return `a list of ${value.length}`;
  const global = value as Partial<PickleGlobal>;
  if (typeof global.qualifiedName === 'string') return global.qualifiedName;
  return `a ${typeof value}`;
}
