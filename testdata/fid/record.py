#!/usr/bin/python3
"""Records what pytorch-fid and torch-fidelity compute, for @qsattn/fid's tests (see README.md here).

Usage: /usr/bin/python3 record.py PYTORCH_FID_SRC TORCH_FIDELITY_ROOT [--only NAME]
       /usr/bin/python3 record.py PYTORCH_FID_SRC TORCH_FIDELITY_ROOT --save-pth FILE SEED   (for check-recordings.ts)

Each recording NAME/ holds two image folders (a/, b/: PNGs written here from a seeded numpy generator), the
Inception run on them with seeded random weights (the generator of packages/fid/src/testing/seeded-weights.ts,
re-implemented below in numpy; the net is pytorch-fid's own `fid_inception_v3()` with those weights loaded in
place of the download), and:
  features.safetensors  a_<dims>, b_<dims>: pytorch-fid's get_activations (float32 values, [N, dims])
  record.json           FID per dims (pytorch-fid's calculate_frechet_distance on its float64 statistics),
                        KID per dims (torch-fidelity's kid_features_to_metric, float32 as it runs, and the
                        same in float64), with the options used
and sqrtm.json: scipy.linalg.sqrtm on small known matrices, and pytorch-fid's FID on singular and
non-PSD products (the eps retry and the imaginary-component error).
"""
import json
import os
import struct
import sys
import types

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [sys.argv[1], sys.argv[2]]
# pytorch-fid and torch-fidelity import tqdm only for progress bars.
_tqdm = types.ModuleType("tqdm")
_tqdm.tqdm = lambda x=None, *a, **k: x
sys.modules.setdefault("tqdm", _tqdm)

import torch  # noqa: E402
from PIL import Image  # noqa: E402
from scipy import linalg  # noqa: E402

import pytorch_fid.inception as pfi  # noqa: E402
from pytorch_fid import fid_score  # noqa: E402
from torch_fidelity import metric_kid  # noqa: E402

DIMS = [64, 192, 768, 2048]

# name: weight seed, image seed, (sizes of a/), (sizes of b/), KID subsets, KID subset size
RECORDINGS = {
    # developed against
    "seed1": dict(weights=1, images=11, a=[(64, 64), (48, 80), (320, 300), (33, 47)], b=[(96, 96), (299, 299), (40, 40), (57, 31)],
                  modes={"a": ["RGB", "L", "RGB", "RGBA"], "b": ["RGB", "RGB", "RGBA", "RGB"]}, kid_subsets=5, kid_subset_size=3),
    # held out: not looked at while developing
    "seed7": dict(weights=7, images=23, a=[(72, 72), (120, 64), (35, 35)], b=[(64, 128), (80, 80), (31, 45)],
                  modes={"a": ["RGB", "RGB", "RGB"], "b": ["RGB", "L", "RGB"]}, kid_subsets=4, kid_subset_size=2),
    # many small images, tap 64 only: FID/KID where the statistics are well conditioned (N > dims)
    "many64": dict(weights=3, images=5, a=[(24, 24)] * 150, b=[(24, 24)] * 150, modes=None, kid_subsets=10, kid_subset_size=100, dims=[64], b_noise=45),
}


def lowbias32(x):
    x = x ^ (x >> np.uint32(16))
    x = x * np.uint32(0x7FEB352D)
    x = x ^ (x >> np.uint32(15))
    x = x * np.uint32(0x846CA68B)
    x = x ^ (x >> np.uint32(16))
    return x


def seeded_value(name, shape, u):
    if name.endswith("conv.weight"):
        return (2 * u - 1) * np.sqrt(6 / (shape[1] * shape[2] * shape[3]))
    if name.endswith("bn.weight") or name.endswith("bn.running_var"):
        return 0.5 + u
    if name.endswith("bn.bias") or name.endswith("bn.running_mean"):
        return (2 * u - 1) * 0.1
    if name == "fc.weight":
        return (2 * u - 1) * np.sqrt(1 / 2048)
    return (2 * u - 1) * 0.01


def seeded_state_dict(model_state, seed):
    out = {}
    k = 0
    with np.errstate(over="ignore"):
        for name, t in model_state.items():
            if name.endswith("num_batches_tracked"):
                out[name] = t.clone()
                continue
            k += 1
            base = (np.uint32(0x9E3779B9) * np.uint32(k) + np.uint32(0x85EBCA6B) * np.uint32(seed)).astype(np.uint32)
            i = np.arange(t.numel(), dtype=np.uint32)
            u = (lowbias32(i + base) >> np.uint32(8)).astype(np.float64) / 16777216.0
            out[name] = torch.from_numpy(seeded_value(name, list(t.shape), u).astype(np.float32).reshape(t.shape))
    return out


def fid_template():
    template = pfi._inception_v3(num_classes=1008, aux_logits=False, weights=None)
    for name, block in [("Mixed_5b", pfi.FIDInceptionA(192, pool_features=32)), ("Mixed_5c", pfi.FIDInceptionA(256, pool_features=64)),
                        ("Mixed_5d", pfi.FIDInceptionA(288, pool_features=64)), ("Mixed_6b", pfi.FIDInceptionC(768, channels_7x7=128)),
                        ("Mixed_6c", pfi.FIDInceptionC(768, channels_7x7=160)), ("Mixed_6d", pfi.FIDInceptionC(768, channels_7x7=160)),
                        ("Mixed_6e", pfi.FIDInceptionC(768, channels_7x7=192)), ("Mixed_7b", pfi.FIDInceptionE_1(1280)),
                        ("Mixed_7c", pfi.FIDInceptionE_2(2048))]:
        setattr(template, name, block)
    return template


def build_model(dims, seed):
    """pytorch-fid's InceptionV3([block]) with the seeded weights in place of the download."""
    template = fid_template()
    weights = seeded_state_dict(template.state_dict(), seed)
    original = pfi.load_state_dict_from_url
    pfi.load_state_dict_from_url = lambda *a, **k: weights
    try:
        model = pfi.InceptionV3([pfi.InceptionV3.BLOCK_INDEX_BY_DIM[dims]])
    finally:
        pfi.load_state_dict_from_url = original
    return model.eval()


def write_images(folder, sizes, modes, rng, noise=25):
    os.makedirs(folder, exist_ok=True)
    for idx, (w, h) in enumerate(sizes):
        y, x = np.mgrid[0:h, 0:w].astype(np.float64)
        img = np.zeros((h, w, 4))
        for c in range(4):
            fx, fy, ph = rng.uniform(0.02, 0.3), rng.uniform(0.02, 0.3), rng.uniform(0, 6.3)
            img[..., c] = 127 + 80 * np.sin(fx * x + fy * y + ph) + rng.normal(0, noise, (h, w))
        px = np.clip(np.round(img), 0, 255).astype(np.uint8)
        mode = modes[idx] if modes else "RGB"
        im = Image.fromarray(px, "RGBA")
        im = im.convert("RGB").convert("L") if mode == "L" else (im if mode == "RGBA" else im.convert("RGB"))
        im.save(os.path.join(folder, f"img_{idx:03d}.png"))


def write_safetensors(path, arrays):
    header, offset, blobs = {}, 0, []
    for name, a in arrays.items():
        b = np.ascontiguousarray(a, dtype=np.float32).tobytes()
        header[name] = {"dtype": "F32", "shape": list(a.shape), "data_offsets": [offset, offset + len(b)]}
        offset += len(b)
        blobs.append(b)
    h = json.dumps(header).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))


def kid(f1, f2, subsets, size, dtype):
    old = np.seterr(all="ignore")
    try:
        r = metric_kid.kid_features_to_metric(torch.from_numpy(f1.astype(dtype)), torch.from_numpy(f2.astype(dtype)),
                                              kid_subsets=subsets, kid_subset_size=size, verbose=False, rng_seed=2020,
                                              kid_kernel="poly", kid_kernel_poly_degree=3, kid_kernel_poly_gamma=None,
                                              kid_kernel_poly_coef0=1)
    finally:
        np.seterr(**old)
    return {"mean": r[metric_kid.KEY_METRIC_KID_MEAN], "std": r[metric_kid.KEY_METRIC_KID_STD]}


def fid_or_error(mu1, s1, mu2, s2):
    try:
        return {"fid": float(fid_score.calculate_frechet_distance(mu1, s1, mu2, s2))}
    except ValueError as e:
        return {"error": str(e)}


def record(name, spec):
    out = os.path.join(HERE, name)
    rng = np.random.RandomState(spec["images"])
    for side in "ab":
        write_images(os.path.join(out, side), spec[side], spec["modes"][side] if spec["modes"] else None, rng, spec.get(f"{side}_noise", 25))
    files = {side: sorted(os.path.join(out, side, f) for f in os.listdir(os.path.join(out, side))) for side in "ab"}
    arrays, results = {}, {}
    for dims in spec.get("dims", DIMS):
        model = build_model(dims, spec["weights"])
        acts = {side: fid_score.get_activations(files[side], model, batch_size=1, dims=dims, device="cpu", num_workers=0) for side in "ab"}
        for side in "ab":
            arrays[f"{side}_{dims}"] = acts[side].astype(np.float32)
        (m1, s1), (m2, s2) = [(np.mean(acts[s], axis=0), np.cov(acts[s], rowvar=False)) for s in "ab"]
        size = min(spec["kid_subset_size"], len(files["a"]), len(files["b"]))
        results[str(dims)] = {
            **fid_or_error(m1, s1, m2, s2),
            "kid": kid(acts["a"], acts["b"], spec["kid_subsets"], size, np.float32),
            "kid_float64": kid(acts["a"], acts["b"], spec["kid_subsets"], size, np.float64),
        }
        if name == "many64":
            np.savez_compressed(os.path.join(out, "stats_a_64.npz"), mu=m1, sigma=s1)
        print(name, dims, results[str(dims)], flush=True)
    write_safetensors(os.path.join(out, "features.safetensors"), arrays)
    with open(os.path.join(out, "record.json"), "w") as f:
        json.dump({"weight_seed": spec["weights"], "kid_subsets": spec["kid_subsets"], "kid_subset_size": spec["kid_subset_size"],
                   "kid_seed": 2020, "torch": torch.__version__, "scipy": __import__("scipy").__version__, "results": results}, f, indent=1)


def c(z):
    z = np.asarray(z)
    return {"re": np.real(z).tolist(), "im": np.imag(z).tolist()}


def record_sqrtm():
    cases = []
    for label, a in [("diagonal", [[4.0, 0], [0, 9.0]]), ("scipy example", [[1.0, 3.0], [1.0, 4.0]]),
                     ("negative eigenvalue", [[-4.0, 1.0], [0, 9.0]]), ("complex pair", [[0.0, -2.0], [2.0, 0.0]]),
                     ("spd 3x3", [[4.0, 1.0, 0.5], [1.0, 3.0, 0.2], [0.5, 0.2, 2.0]]), ("nilpotent (no root)", [[0.0, 1.0], [0.0, 0.0]])]:
        x, err = linalg.sqrtm(np.array(a), disp=False)
        cases.append({"label": label, "a": a, "sqrtm": c(x), "finite": bool(np.isfinite(x).all())})
    rng = np.random.RandomState(5)
    fids = []
    # rank-deficient covariances (4 samples, 8 dims): a near-singular product
    x1, x2 = rng.normal(size=(4, 8)), rng.normal(size=(4, 8)) + 0.5
    fids.append(("rank deficient (N < d)", x1.mean(0), np.cov(x1, rowvar=False), x2.mean(0), np.cov(x2, rowvar=False)))
    # a feature that never varies (a dead unit): a zero row and column in both covariances
    y1, y2 = rng.normal(size=(20, 5)), rng.normal(size=(20, 5)) * 1.5
    y1[:, 2] = 0
    y2[:, 2] = 0
    y1[:, 4] = 0
    y2[:, 4] = 0
    fids.append(("dead units (zero rows)", y1.mean(0), np.cov(y1, rowvar=False), y2.mean(0), np.cov(y2, rowvar=False)))
    # well conditioned
    z1, z2 = rng.normal(size=(50, 6)), rng.normal(size=(50, 6)) @ rng.normal(size=(6, 6))
    fids.append(("well conditioned", z1.mean(0), np.cov(z1, rowvar=False), z2.mean(0), np.cov(z2, rowvar=False)))
    # not positive semi-definite: a negative eigenvalue in the product, so an imaginary square root
    fids.append(("not PSD", np.zeros(2), np.diag([1.0, -1.0]), np.ones(2), np.diag([2.0, 3.0])))
    # a product with no square root (nilpotent): pytorch-fid retries with eps added to both diagonals
    fids.append(("no square root: eps retry", np.zeros(2), np.array([[0.0, 1.0], [0.0, 0.0]]), np.zeros(2), np.eye(2)))
    frechet = []
    for label, m1, s1, m2, s2 in fids:
        frechet.append({"label": label, "mu1": m1.tolist(), "sigma1": s1.tolist(), "mu2": m2.tolist(), "sigma2": s2.tolist(),
                        "retry": not np.isfinite(linalg.sqrtm(s1.dot(s2), disp=False)[0]).all(), **fid_or_error(m1, s1, m2, s2)})
    perms = {}
    for seed, n, m in [(2020, 10, 4), (0, 300, 100), (12345, 7, 7), (4294967295, 1000, 3)]:
        r = np.random.RandomState(seed)
        perms[f"{seed}:{n}:{m}"] = [r.choice(n, m, replace=False).tolist(), r.choice(n, m, replace=False).tolist()]
    with open(os.path.join(HERE, "sqrtm.json"), "w") as f:
        json.dump({"scipy": __import__("scipy").__version__, "sqrtm": cases, "frechet": frechet, "choice": perms}, f, indent=1)


def save_pth(path, seed):
    """The seeded weights as a .pth in the official file's layout (legacy torch.save format), for check-recordings.ts."""
    state = seeded_state_dict(fid_template().state_dict(), seed)
    torch.save(state, path, _use_new_zipfile_serialization=False)
    print("wrote", path, len(state), "tensors")


if __name__ == "__main__":
    torch.set_num_threads(2)
    if "--save-pth" in sys.argv:
        i = sys.argv.index("--save-pth")
        save_pth(sys.argv[i + 1], int(sys.argv[i + 2]))
        sys.exit(0)
    only = sys.argv[sys.argv.index("--only") + 1] if "--only" in sys.argv else None
    if only in (None, "sqrtm"):
        record_sqrtm()
    for name, spec in RECORDINGS.items():
        if only in (None, name):
            record(name, spec)
