#!/usr/bin/python3
"""nn_bench.py - the emotion CNN against PyTorch (Debian python3-torch, CPU)
on the same architecture, in the same run: batch-1 inference latency on one
thread (ours on every kernel level the CPU has: int8 VNNI, fp32 AVX-512,
portable im2col + OpenBLAS), training throughput at 2 threads, and our
per-face latency for the shipped model on one core, with flip TTA.
Prints the measured figures and the ratios.

Run through bench/nn_bench.sh, which builds bench/nn_bench (our side).
Usage: nn_bench.py OUR_BENCH_BINARY MODEL.msnn ARCH
"""
import os
import struct
import subprocess
import sys
import time

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


def median(xs):
    xs = sorted(xs)
    return xs[len(xs) // 2]


def torch_latency(model, n=300):
    """Median batch-1 latency (ms) of each variant: eager and jit-frozen."""
    torch.set_num_threads(1)
    model.eval()
    x = torch.randn(1, 1, CROP, CROP)
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


def model_macs(path):
    """Reads the architecture header of a .msnn (see src/nn/model_io.c)."""
    with open(path, "rb") as f:
        head = f.read(32)
    side, crop = struct.unpack("<II", head[12:20])
    return side, crop


def main():
    binary, model_path, arch = sys.argv[1], sys.argv[2], sys.argv[3]
    torch.manual_seed(0)
    side, crop = model_macs(model_path)
    if crop != CROP:
        sys.exit(f"nn_bench: {model_path} has crop {crop}, expected {CROP}")
    net = build(arch)
    params = sum(p.numel() for p in net.parameters())
    print(f"architecture {arch}: {params} parameters (PyTorch count), "
          f"input {CROP}x{CROP}; torch {torch.__version__}")

    # Latency: everything pinned to one CPU, ours and torch alternating,
    # ROUNDS rounds, medians over the rounds' medians.
    cpus = os.sched_getaffinity(0)
    cpu = int(os.environ.get("NN_BENCH_CPU", max(cpus)))
    rounds = int(os.environ.get("NN_BENCH_ROUNDS", "3"))
    os.sched_setaffinity(0, {cpu})
    levels = ["portable", "fp32", "int8"]
    runs = {}
    tl = {}
    for _ in range(rounds):
        for name in levels + ["default"]:
            r = ours(binary, "latency", model_path,
                     kernels=None if name == "default" else name)
            got = levels[int(r["kernel_level"])]
            if name != "default" and got != name:
                continue
            key = name if name != "default" else f"default ({got})"
            for k, v in r.items():
                runs.setdefault(key, {}).setdefault(k, []).append(v)
        for name, ms in torch_latency(net).items():
            tl.setdefault(name, []).append(ms)
    os.sched_setaffinity(0, cpus)
    lat = {k: {m: median(v) for m, v in r.items()} for k, r in runs.items()}
    tlat = {k: median(v) for k, v in tl.items()}
    print(f"batch-1 latency, 1 thread, pinned to CPU {cpu}, median of "
          f"{rounds} rounds of 300:")
    for name, r in lat.items():
        print(f"ours  kernels {name}: {r['latency_ms_median']:.3f} ms, "
              f"with flip TTA {r['latency_tta_ms_median']:.3f} ms "
              f"(user CPU per face {r['cpu_ms_mean']:.3f} ms, with TTA "
              f"{r['cpu_tta_ms_mean']:.3f} ms)")
    for name, ms in tlat.items():
        print(f"torch {name}: {ms:.3f} ms")
    tname = min(tlat, key=tlat.get)
    best = next(r for k, r in lat.items() if k.startswith("default"))
    ips = tips = None
    if os.environ.get("NN_BENCH_TRAIN", "1") != "0":
        ips = ours(binary, "train", arch, "2", "1536",
                   "64")["train_images_per_s"]
        print(f"ours  training throughput (2 threads, batch 64, incl. "
              f"augmentation): {ips:.1f} images/s")
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
    print(f"ours per-face latency, shipped model, 1 core, default kernels: "
          f"{best['latency_ms_median']:.3f} ms, with flip TTA "
          f"{best['latency_tta_ms_median']:.3f} ms (goal <= 2 ms)")


if __name__ == "__main__":
    main()
