#!/usr/bin/python3
"""nn_bench.py - the emotion CNN against PyTorch (Debian python3-torch, CPU)
on the same nets, in the same run: batch-1 inference latency on one thread
of the model (a .msnn net, or an .msens ensemble whose softmax outputs are
averaged with the manifest's weights; PyTorch runs the same layer lists,
read from the files), ours on every kernel level the CPU has (int8 VNNI,
fp32 AVX-512, portable im2col + OpenBLAS); training throughput of ARCH at
2 threads; and our per-face latency for the model on one core with flip
and ten-crop TTA. Prints the measured figures and the ratios.

Run through bench/nn_bench.sh, which builds bench/nn_bench (our side).
Usage: nn_bench.py OUR_BENCH_BINARY MODEL ARCH
"""
import os
import struct
import subprocess
import sys
import time
from typing import List

import torch
import torch.nn as nn

# Mirrors nn_arch_preset() in src/nn/net.c: conv3x3-BN-ReLU blocks per stage,
# 2x2 max pools between stages, global average pool, dropout, dense 7.
PRESETS = {
    "small": ([2, 2, 2, 2], [16, 32, 64, 128], 0.3),
    "base": ([1, 2, 2, 2], [32, 64, 96, 192], 0.4),
    "wide": ([2, 2, 2, 2], [24, 48, 96, 192], 0.4),
    "large": ([1, 2, 2, 2], [32, 64, 128, 256], 0.4),
}
CROP = 44


def build(arch):
    convs, widths, drop = PRESETS[arch]
    layers, cin = [], 1
    for s, (n, w) in enumerate(zip(convs, widths)):
        for _ in range(n):
            layers += [nn.Conv2d(cin, w, 3, padding=1, bias=False),
                       nn.BatchNorm2d(w), nn.ReLU(inplace=True)]
            cin = w
        if s + 1 < len(convs):
            layers.append(nn.MaxPool2d(2))
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(drop),
               nn.Linear(cin, 7)]
    return nn.Sequential(*layers)


# enum nn_layer_type in src/nn/nn_internal.h
CONV, BN, RELU, MAXPOOL, GAP, DROPOUT, DENSE = range(1, 8)


def read_net(path):
    """(side, crop, layer list) of a .msnn (see src/nn/model_io.c)."""
    with open(path, "rb") as f:
        head = f.read(32)
        magic, _, _, side, crop, _, _, n = struct.unpack("<4sIIIIffI", head)
        if magic != b"MSNN" or not 1 <= n <= 64:
            sys.exit(f"nn_bench: {path} is not a model file")
        body = f.read(28 * n)
    return side, crop, [struct.unpack_from("<7I", body, 28 * i)
                        for i in range(n)]


def read_model(path):
    """[(net path, weight)] of a net file or an ensemble manifest (spec at
    the top of src/nn/ensemble.c; weights normalised)."""
    with open(path, "rb") as f:
        data = f.read()
    if not data.startswith(b"msens 1"):
        return [(path, 1.0)]
    members = []
    for line in data.decode("ascii").splitlines()[1:]:
        f = line.split()
        if not f or f[0].startswith("#"):
            continue
        net = os.path.join(os.path.dirname(path), f[1])
        members.append((net, float(f[2]) if len(f) > 2 else 1.0))
    total = sum(w for _, w in members)
    return [(p, w / total) for p, w in members]


def build_layers(layers):
    """A PyTorch net with the layer list of a .msnn (random weights: the
    speed does not depend on them)."""
    mods, cin = [], 1
    for t, out, k, stride, pad, flags, p_milli in layers:
        if t == CONV:
            mods.append(nn.Conv2d(cin, out, k, stride, pad,
                                  bias=bool(flags & 1)))
            cin = out
        elif t == BN:
            mods.append(nn.BatchNorm2d(cin))
        elif t == RELU:
            mods.append(nn.ReLU(inplace=True))
        elif t == MAXPOOL:
            mods.append(nn.MaxPool2d(k, stride))
        elif t == GAP:
            mods += [nn.AdaptiveAvgPool2d(1), nn.Flatten()]
        elif t == DROPOUT:
            mods.append(nn.Dropout(p_milli / 1000))
        elif t == DENSE:
            mods.append(nn.Linear(cin, out, bias=bool(flags & 1)))
            cin = out
    return nn.Sequential(*mods)


class Ensemble(nn.Module):
    """Weighted mean of the members' softmax outputs, as nn_classify."""

    def __init__(self, nets, weights):
        super().__init__()
        self.members = nn.ModuleList(nets)
        self.weights: List[float] = weights

    def forward(self, x):
        out = torch.zeros(x.shape[0], 7)
        for i, m in enumerate(self.members):
            out = out + self.weights[i] * torch.softmax(m(x), 1)
        return out


def median(xs):
    xs = sorted(xs)
    return xs[len(xs) // 2]


def torch_latency(model, crop, n=300):
    """Median batch-1 latency (ms) of each variant: eager and jit-frozen."""
    torch.set_num_threads(1)
    model.eval()
    x = torch.randn(1, 1, crop, crop)
    out = {}
    with torch.no_grad():
        variants = [("eager", model)]
        try:
            frozen = torch.jit.optimize_for_inference(
                torch.jit.script(model))
            variants.append(("jit-frozen", frozen))
        except Exception as e:  # older builds without the pass
            print(f"# torch.jit.optimize_for_inference unavailable: {e}")
        for name, m in variants:
            for _ in range(20):
                m(x)
            ts = []
            for _ in range(n):
                t0 = time.perf_counter()
                m(x)
                ts.append((time.perf_counter() - t0) * 1000)
            out[name] = median(ts)
    return out


def torch_train(model, threads=2, batch=64, steps=20):
    torch.set_num_threads(threads)
    model.train()
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9,
                          nesterov=True, weight_decay=5e-4)
    loss_fn = nn.CrossEntropyLoss(label_smoothing=0.1)
    x = torch.randn(batch, 1, CROP, CROP)
    y = torch.randint(0, 7, (batch,))
    for i in range(steps + 3):
        if i == 3:
            t0 = time.perf_counter()
        opt.zero_grad()
        loss_fn(model(x), y).backward()
        opt.step()
    return steps * batch / (time.perf_counter() - t0)


def ours(binary, *args, kernels=None):
    env = dict(os.environ)
    if kernels:
        env["MOODSYNC_NN_KERNELS"] = kernels
    out = subprocess.run([binary, *args], check=True, capture_output=True,
                         text=True, env=env).stdout
    return {k: float(v) for k, v in (line.split() for line in
                                     out.splitlines() if line.strip())}


def torch_model(model_path):
    """The model as PyTorch runs it, and the window its nets see."""
    members = read_model(model_path)
    nets, crops = [], set()
    for path, _ in members:
        _, crop, layers = read_net(path)
        nets.append(build_layers(layers))
        crops.add(crop)
    if len(crops) != 1:
        sys.exit(f"nn_bench: {model_path}: members see different windows")
    if len(nets) == 1:
        return nets[0], crops.pop(), 1
    return Ensemble(nets, [w for _, w in members]), crops.pop(), len(nets)


def main():
    binary, model_path, arch = sys.argv[1], sys.argv[2], sys.argv[3]
    torch.manual_seed(0)
    net, crop, nmembers = torch_model(model_path)
    params = sum(p.numel() for p in net.parameters())
    print(f"model {model_path}: {nmembers} net(s), {params} parameters "
          f"(PyTorch count), input {crop}x{crop}; torch {torch.__version__}")

    # Latency: everything pinned to one CPU, ours and torch alternating,
    # ROUNDS rounds, medians over the rounds' medians.
    cpus = os.sched_getaffinity(0)
    cpu = int(os.environ.get("NN_BENCH_CPU", max(cpus)))
    rounds = int(os.environ.get("NN_BENCH_ROUNDS", "3"))
    os.sched_setaffinity(0, {cpu})
    levels = ["portable", "fp32", "int8", "amx"]
    runs = {}
    tl = {}
    latency = os.environ.get("NN_BENCH_LATENCY", "1") != "0"
    for _ in range(rounds if latency else 0):
        for name in levels + ["default"]:
            r = ours(binary, "latency", model_path,
                     kernels=None if name == "default" else name)
            got = levels[int(r["kernel_level"])]
            if name != "default" and got != name:
                continue
            key = name if name != "default" else f"default ({got})"
            for k, v in r.items():
                runs.setdefault(key, {}).setdefault(k, []).append(v)
        for name, ms in torch_latency(net, crop).items():
            tl.setdefault(name, []).append(ms)
    peak = None
    if "int8" in runs:
        peak = ours(binary, "peak")["vnni_peak_gmacs"]
    os.sched_setaffinity(0, cpus)
    lat = {k: {m: median(v) for m, v in r.items()} for k, r in runs.items()}
    tlat = {k: median(v) for k, v in tl.items()}
    print(f"batch-1 latency, 1 thread, pinned to CPU {cpu}, median of "
          f"{rounds} rounds of 300:")
    for name, r in lat.items():
        print(f"ours  kernels {name}: {r['latency_ms_median']:.3f} ms, "
              f"with flip TTA {r['latency_tta_ms_median']:.3f} ms, ten "
              f"crops {r['latency_crops_ms_median']:.3f} ms (user CPU per "
              f"face {r['cpu_ms_mean']:.3f} ms, flip "
              f"{r['cpu_tta_ms_mean']:.3f} ms, crops "
              f"{r['cpu_crops_ms_mean']:.3f} ms)")
    for name, ms in tlat.items():
        print(f"torch {name}: {ms:.3f} ms")
    tname = min(tlat, key=tlat.get) if tlat else None
    best = next((r for k, r in lat.items() if k.startswith("default")),
                None)
    ips = tips = fips = None
    if os.environ.get("NN_BENCH_TRAIN", "1") != "0":
        print(f"training: architecture {arch} (PyTorch: the same preset)")
        r = ours(binary, "train", arch, "2", "1536", "64")
        ips = r["train_images_per_s"]
        print(f"ours  training throughput (2 threads, batch 64, incl. "
              f"augmentation), kernels {levels[int(r['kernel_level'])]}: "
              f"{ips:.1f} images/s")
        if int(r["kernel_level"]) == levels.index("amx"):
            fips = ours(binary, "train", arch, "2", "1536", "64",
                        kernels="int8")["train_images_per_s"]
            print(f"ours  the same on the fp32 kernels (int8 level): "
                  f"{fips:.1f} images/s")
        tips = torch_train(build(arch))
        print(f"torch training throughput (2 threads, batch 64): "
              f"{tips:.1f} images/s")
    print()
    for name, r in lat.items():
        goal = " (goal >= 3x)" if name.startswith("default") else ""
        print(f"ratio batch-1 latency torch {tname}/ours {name}: "
              f"{tlat[tname] / r['latency_ms_median']:.2f}x{goal}")
    if ips:
        print(f"ratio training images/s ours/torch: {ips / tips:.2f}x "
              f"(goal >= 3x)")
    if fips:
        print(f"ratio training images/s ours fp32 kernels/torch: "
              f"{fips / tips:.2f}x")
    int8 = lat.get("int8")
    if int8 and peak:
        macs = int8["macs"]
        rate = macs / int8["latency_ms_median"] / 1e6
        print(f"int8 (VNNI) kernels: {macs / 1e6:.0f} M multiply-adds a "
              f"pass at {rate:.0f} GMAC/s, {100 * rate / peak:.0f} % of "
              f"this core's vpdpbusd peak ({peak:.0f} GMAC/s, "
              f"`nn_bench peak`); at that peak a face with flip TTA "
              f"would still take {2 * macs / peak / 1e6:.3f} ms of "
              f"multiply-adds alone")
    if not best:
        return
    print(f"ours per-face latency, this model, 1 core, default kernels: "
          f"{best['latency_ms_median']:.3f} ms, with flip TTA "
          f"{best['latency_tta_ms_median']:.3f} ms, with ten crops "
          f"{best['latency_crops_ms_median']:.3f} ms (goal <= 2 ms)")


if __name__ == "__main__":
    main()
