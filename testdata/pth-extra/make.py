"""Makes the small PyTorch checkpoints that test @qsattn/core's weight readers (packages/core/src/io).

Run with Debian's PyTorch: /usr/bin/python3 testdata/pth-extra/make.py (torch 1.13; the safetensors pip package
is not needed). Each `<case>.pth` comes with `<case>.expected.safetensors`, written below by hand, holding every
tensor the checkpoint stores, contiguous, in its own dtype, under the name a reader should give it (nested
dicts flattened with dots). The malicious files have no expected file: loading them must fail.
"""
import io, json, os, pickle, struct, zipfile

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
torch.manual_seed(0)

SAFETENSORS_DTYPES = {
    torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16", torch.float64: "F64",
    torch.int64: "I64", torch.int32: "I32", torch.int16: "I16", torch.int8: "I8",
    torch.uint8: "U8", torch.bool: "BOOL",
}


def raw_bytes(t):
    t = t.detach().contiguous()
    # numpy has no bfloat16: reinterpret its bits, which is what the file stores anyway.
    if t.dtype == torch.bfloat16:
        t = t.view(torch.int16)
    return t.numpy().tobytes()


def write_safetensors(path, tensors):
    header, blobs, offset = {}, [], 0
    for name, t in tensors.items():
        b = raw_bytes(t)
        header[name] = {"dtype": SAFETENSORS_DTYPES[t.dtype], "shape": list(t.shape),
                        "data_offsets": [offset, offset + len(b)]}
        blobs.append(b)
        offset += len(b)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))


def flatten(obj, prefix=""):
    out = {}
    if isinstance(obj, torch.Tensor):
        out[prefix[:-1]] = obj
    elif isinstance(obj, dict):
        for k, v in obj.items():
            out.update(flatten(v, f"{prefix}{k}."))
    elif isinstance(obj, (list, tuple)):
        for i, v in enumerate(obj):
            out.update(flatten(v, f"{prefix}{i}."))
    return out


def case(name, obj, **save_kwargs):
    torch.save(obj, os.path.join(HERE, f"{name}.pth"), **save_kwargs)
    write_safetensors(os.path.join(HERE, f"{name}.expected.safetensors"), flatten(obj))


def small_module_state():
    net = torch.nn.Sequential(torch.nn.Conv2d(2, 3, 3), torch.nn.BatchNorm2d(3), torch.nn.Linear(4, 2))
    net[1].running_mean.normal_()
    net[1].num_batches_tracked.fill_(7)
    return net.state_dict()


def dtype_state():
    x = torch.randn(2, 3)
    return {
        "f16": x.half(), "bf16": x.bfloat16(), "f64": x.double() * 1e3,
        "i64": torch.tensor([[-(2**31), 2**31 - 1], [0, -5]], dtype=torch.int64),
        "i32": torch.tensor([1, -2, 3], dtype=torch.int32), "i16": torch.tensor([-300, 300], dtype=torch.int16),
        "i8": torch.tensor([-128, 127], dtype=torch.int8), "u8": torch.tensor([0, 255], dtype=torch.uint8),
        "bool": torch.tensor([[True, False], [False, True]]),
        "f16_special": torch.tensor([float("inf"), float("-inf"), 6.0e-8, 65504.0, -0.0], dtype=torch.float16),
    }


def view_state():
    base = torch.arange(24, dtype=torch.float32).reshape(4, 6)
    return {
        "transposed": base.t(),                   # stride (1, 6)
        "offset_window": base[1:3, 2:5],          # storage offset 8, stride (6, 1)
        "every_other": base[:, ::2],              # stride (6, 2)
        "shared_row": base[2],                    # same storage as the others, offset 12
        "expanded": torch.tensor([1.0, 2.0]).expand(3, 2),  # stride (0, 1)
        "scalar": torch.tensor(3.5),              # 0-d tensor
        "scalar_view": base[3, 4],                # 0-d view into a shared storage, offset 22
        "empty": torch.zeros(0, 3),
        "long_view": torch.arange(10)[3:7],       # int64 view with offset
    }


case("legacy", {**small_module_state(), "shared_a": torch.arange(6.0), "scalar": torch.tensor(-1.25)},
     _use_new_zipfile_serialization=False)
case("dtypes", dtype_state())
case("views", view_state())
case("legacy_views", view_state(), _use_new_zipfile_serialization=False)
case("nested", {"state_dict": {"a.weight": torch.ones(2, 2), "a.bias": torch.zeros(2)}, "epoch": 3,
                "name": "run-1", "history": [torch.tensor([1.0]), 0.5],
                "model": {"b": torch.tensor([4, 5]), "param": torch.nn.Parameter(torch.ones(2))}})
case("protocol4", small_module_state(), pickle_protocol=4)


def rewrite_zip(src, dst, compression=zipfile.ZIP_STORED, extra=None):
    """Copies a torch zip checkpoint entry by entry (e.g. to compress it), optionally adding entries."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", compression) as zout:
        for info in zin.infolist():
            zout.writestr(info.filename, zin.read(info.filename))
        for name, data in (extra or {}).items():
            zout.writestr(name, data)


def copy_expected(src, dst):
    with open(os.path.join(HERE, f"{src}.expected.safetensors"), "rb") as f, \
         open(os.path.join(HERE, f"{dst}.expected.safetensors"), "wb") as g:
        g.write(f.read())


# The same checkpoints with DEFLATE entries, and with the zip64 records (central directory extras, zip64 end
# records) that Python's writer emits once its limits are lowered to zero. torch's own reader (miniz) refuses
# the zip64 copy, Python's zipfile reads it: it exercises our zip64 path, not torch's.
rewrite_zip(os.path.join(HERE, "dtypes.pth"), os.path.join(HERE, "deflate.pth"), zipfile.ZIP_DEFLATED)
copy_expected("dtypes", "deflate")
zip64_limits = zipfile.ZIP64_LIMIT, zipfile.ZIP_FILECOUNT_LIMIT
zipfile.ZIP64_LIMIT, zipfile.ZIP_FILECOUNT_LIMIT = 0, 0
rewrite_zip(os.path.join(HERE, "views.pth"), os.path.join(HERE, "zip64.pth"))
zipfile.ZIP64_LIMIT, zipfile.ZIP_FILECOUNT_LIMIT = zip64_limits
copy_expected("views", "zip64")

# A checkpoint that says its storages are big-endian: readers must refuse it rather than swap silently.
rewrite_zip(os.path.join(HERE, "dtypes.pth"), os.path.join(HERE, "big_endian.pth"),
            extra={"dtypes/byteorder": "big"})


class RunsCommand:
    """Pickles as a call of `func(*args)`: what an attacker's checkpoint does."""

    def __init__(self, func, *args):
        self.func, self.args = func, args

    def __reduce__(self):
        return self.func, self.args


def malicious_zip(name, payload):
    """A torch-style zip whose data.pkl pickles `payload` inside an otherwise normal state dict."""
    data = pickle.dumps({"weight": payload}, protocol=2)
    with zipfile.ZipFile(os.path.join(HERE, f"{name}.pth"), "w") as z:
        z.writestr(f"{name}/data.pkl", data)
        z.writestr(f"{name}/version", "3\n")


MARKER = "/tmp/qsattn-pickle-was-executed"
malicious_zip("malicious_system", RunsCommand(os.system, f"touch {MARKER}"))
malicious_zip("malicious_eval", RunsCommand(eval, f"open('{MARKER}', 'w')"))

# A legacy-format file whose main pickle calls os.system through INST (the protocol-0 `i` opcode), its
# argument a SHORT_BINSTRING so that INST is the first opcode a reader must refuse.
with open(os.path.join(HERE, "malicious_legacy.pth"), "wb") as f:
    for header in (0x1950A86A20F9469CFC6C, 1001, {"protocol_version": 1001, "little_endian": True}):
        pickle.dump(header, f, protocol=2)
    command = f"touch {MARKER}".encode()
    f.write(b"(U" + bytes([len(command)]) + command + b"ios\nsystem\n.")
