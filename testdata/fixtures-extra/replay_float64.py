"""Replay a recorded official training step in float64 (PyTorch, CPU) and measure how far float32 values are from it.

Usage (Debian's python3 with python3-torch, official code at $QS_OFFICIAL, see /work/shared/peer/README.md):

    python3 replay_float64.py RECORDING.safetensors [--ours OURS.safetensors] [--out TRUTH.safetensors]
                              [--float32] [--no-mkldnn]

The step is rebuilt from the recording's `official_args` and initial weights, with the recorded patch ids and the
recorded query selection forced (so both precisions take the same discrete choices), and run with every weight,
input and buffer in float64. For each recorded gradient tensor it prints the error of the official float32
autograd (the recording) against that float64 truth, and, with --ours (a file written by
`qsattn conformance --dump`), our error too, both relative to the tensor's largest float64 magnitude.
--out saves the float64 gradients (and losses) under the recording's key names (stored as float32), as the
companion `float64/NAME.safetensors` that `qsattn conformance` judges against where the float32 recording itself
is float32 noise.
--float32 replays in float32 instead (to check that the replay reproduces the recording). --no-mkldnn turns off
PyTorch's oneDNN convolutions.

Not a dependency of the project or its tests: a tool to settle who is right when ours and the recording differ.
"""
import argparse, json, os, sys

import numpy as np
import torch

PEER = os.environ.get("QS_PEER", "/work/shared/peer")
sys.path.insert(0, PEER)
import official  # noqa: E402
import safetensors_io  # noqa: E402

ap = argparse.ArgumentParser()
ap.add_argument("recording")
ap.add_argument("--ours")
ap.add_argument("--out")
ap.add_argument("--float32", action="store_true")
ap.add_argument("--no-mkldnn", action="store_true")
ap.add_argument("--all", action="store_true", help="print every tensor, not only the worst per group")
ap.add_argument("--set", action="append", default=[], metavar="OPT=VALUE",
                help="override an official option after the model is built (experiments, e.g. lambda_GAN=0)")
args = ap.parse_args()
if args.no_mkldnn:
    torch.backends.mkldnn.enabled = False
dtype = torch.float32 if args.float32 else torch.float64

rec, meta = safetensors_io.load(args.recording)
argv = json.loads(meta["official_args"])
model, opt = official.make_model(argv)
for assignment in args.set:
    key, value = assignment.split("=", 1)
    setattr(opt, key, type(getattr(opt, key))(value))
t = lambda k: torch.from_numpy(np.array(rec[k]))  # noqa: E731
real_A, real_B = t("input.real_A"), t("input.real_B")
model.set_input({"A": real_A, "B": real_B, "A_paths": ["a"], "B_paths": ["b"]})
model.data_dependent_initialize()  # builds the MLP head and F's optimizer (its weights are replaced below)
nets = {"G": model.netG, "F": model.netF, "D": model.netD}
for name, net in nets.items():
    state = {k: t(f"init.{name}.{k}") for k in net.state_dict()}
    net.load_state_dict(state)
    net.to(dtype)
    net.zero_grad(set_to_none=True)
for crit in [model.criterionGAN, *model.criterionNCE]:  # the GAN loss keeps its targets as buffers
    crit.to(dtype)
for o in model.optimizers:  # data_dependent_initialize made no Adam step, but be sure the state is empty
    o.state.clear()
model.set_input({"A": real_A.to(dtype), "B": real_B.to(dtype), "A_paths": ["a"], "B_paths": ["b"]})

n_layers = len(opt.nce_layers.split(","))
qs_layers = list(range(3, n_layers))


def recorded_selection(tag):
    """Per QS layer, the recorded selection `[B, n]`: local modes record it; global's is read off the attention rows."""
    out = []
    for l in qs_layers:
        if f"{tag}.ids.{l}" in rec:
            ids = np.array(rec[f"{tag}.ids.{l}"]).astype(np.int64)
            out.append(ids.reshape(real_A.shape[0], -1))
            continue
        feat = torch.from_numpy(np.array(rec[f"{tag}.feat_k.{l}"])).double()
        B, C = feat.shape[:2]
        tokens = feat.permute(0, 2, 3, 1).reshape(B, -1, C)
        full = torch.softmax(tokens @ tokens.transpose(1, 2), dim=2).numpy()
        attn = np.array(rec[f"{tag}.attn.{l}"]).astype(np.float64)  # [B, n, HW]
        ids = np.zeros(attn.shape[:2], np.int64)
        for b in range(B):
            err = np.abs(attn[b][:, None, :] - full[b][None, :, :]).max(-1)  # [n, HW]
            taken = set()
            for i in np.argsort(err.min(1)):  # most certain rows first
                for j in np.argsort(err[i]):
                    if j not in taken:
                        ids[b, i] = j
                        taken.add(j)
                        break
        out.append(ids)
    return out


forced = recorded_selection("nceA") + (recorded_selection("nceB") if opt.nce_idt else [])
perms = [torch.from_numpy(np.array(rec[f"perm.{i}"]).astype(np.int64)) for i in range(len([k for k in rec if k.startswith("perm.")]))]
orig_randperm, orig_sort = torch.randperm, torch.sort


def randperm(n, *a, **k):
    return perms.pop(0)


def sort(x, *a, **k):
    """The official selection sorts entropies `[B, HW]`: answer with the recorded order (its first n entries)."""
    ids = torch.from_numpy(forced.pop(0))
    rest = [torch.tensor([j for j in range(x.shape[1]) if j not in set(row.tolist())], dtype=torch.int64) for row in ids]
    index = torch.stack([torch.cat([row, r]) for row, r in zip(ids, rest)])
    return torch.gather(x, 1, index), index


torch.randperm, torch.sort = randperm, sort
calls = []
orig_F = model.netF.forward


def f_forward(feats, num_patches=64, patch_ids=None, attn_mats=None):
    if attn_mats is None:
        for f in feats:
            if f.requires_grad:
                f.retain_grad()
    out = orig_F(feats, num_patches, patch_ids, attn_mats)
    calls.append((feats, out))
    return out


model.netF.forward = f_forward
# G's step is taken against the updated D. Adam's first step is about lr·sign(g), so D's elements whose gradient
# is float noise step either way: in float64 they would land elsewhere than in either float32 run, and move every
# G gradient by ~1e-3 of its scale. Both float32 implementations must match the recorded D after its step
# (conformance checks after.D), so G's float64 truth is taken against exactly that D.
orig_step_D = model.optimizer_D.step


def step_D(*a, **k):
    orig_step_D(*a, **k)
    with torch.no_grad():
        for name, p in model.netD.named_parameters():
            p.copy_(t(f"after.D.{name}").to(dtype))


if not args.float32:
    model.optimizer_D.step = step_D
try:
    model.optimize_parameters()
finally:
    torch.randperm, torch.sort = orig_randperm, orig_sort
assert not perms and not forced, "the replay did not consume every recorded choice"

truth = {}
for name, net in nets.items():
    for k, v in net.named_parameters():
        if v.grad is not None:
            truth[f"grad.{name}.{k}"] = v.grad.detach().double().numpy()
    for k, v in net.state_dict().items():
        truth[f"after.{name}.{k}"] = v.detach().double().numpy()
for k in ("loss_D_fake", "loss_D_real", "loss_D", "loss_G_GAN", "loss_NCE", "loss_NCE_Y", "loss_G"):
    if hasattr(model, k):
        truth[f"loss.{k[5:]}"] = np.array(float(getattr(model, k)))
for c, tag in ((0, "nceA"), (2, "nceB")):
    if c < len(calls):
        feats_k = calls[c][0]
        for l in range(n_layers):
            g = feats_k[l].grad
            truth[f"{tag}.grad_feat_k.{l}"] = (g if g is not None else torch.zeros_like(feats_k[l])).detach().double().numpy()

ours = safetensors_io.load(args.ours)[0] if args.ours else {}
groups = {}
print(f"{'tensor':44s} {'scale':>10s} {'official':>10s}" + (f" {'ours':>10s}" if ours else "") + "   (max error / scale)")
net_max = {}
for key, v in truth.items():
    if key.startswith("grad."):
        net = key.split(".")[1]
        net_max[net] = max(net_max.get(net, 0.0), float(np.abs(v).max()))
for key in sorted(truth):
    if not (key.startswith("grad.") or ".grad_feat_k." in key) or key not in rec:
        continue
    want = truth[key]
    scale = float(np.abs(want).max())
    if key.startswith("grad."):  # SPEC: within 1e-3 of the tensor's largest magnitude
        group = ".".join(key.split(".")[:2])
        # a gradient that is zero in exact arithmetic (a bias before instance norm) is measured against its network
        scale = max(scale, 1e-6 * net_max[key.split(".")[1]])
    else:
        group = key.rsplit(".", 1)[0]
    off = np.abs(np.array(rec[key]).astype(np.float64) - want).max() / (scale or 1)
    row = [key, scale, off]
    if ours and key in ours:
        row.append(np.abs(np.array(ours[key]).astype(np.float64) - want).max() / (scale or 1))
    if args.all:
        print(f"{row[0]:44s} {row[1]:10.3e} {row[2]:10.3e}" + (f" {row[3]:10.3e}" if len(row) > 3 else ""))
    worst = groups.get(group)
    if worst is None or max(row[2:]) > max(worst[2:]):
        groups[group] = row
if not args.all:
    for row in groups.values():
        print(f"{row[0]:44s} {row[1]:10.3e} {row[2]:10.3e}" + (f" {row[3]:10.3e}" if len(row) > 3 else ""))
print("losses:", {k[5:]: (float(truth[k]), float(rec[k])) for k in truth if k.startswith("loss.")})
if args.out:  # what conformance judges by: the gradients (and the losses, for the record)
    keep = {k: v for k, v in truth.items() if k.startswith(("grad.", "loss.")) or ".grad_feat_k." in k}
    safetensors_io.save(args.out, keep,
                        {"replay_of": os.path.basename(args.recording), "dtype": str(dtype), "torch": torch.__version__,
                         "mkldnn": str(torch.backends.mkldnn.enabled)})
