#!/usr/bin/env python3
"""test_eval_levels.py - the AMX int8 kernels classify exactly as the VNNI
ones: `moodsync eval` of the default model on PublicTest with flip TTA, at
the best kernel level and with MOODSYNC_NN_KERNELS=int8, must print the same
JSON (accuracy, every class's figures), and so must --calib 1, whose
baseline is the mean of every face's probabilities. Skipped on a CPU
without AMX, where both runs take the same kernels."""
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lib_server import Tap, data_dir, default_model, moodsync_bin  # noqa: E402


def has_amx():
    try:
        with open("/proc/cpuinfo") as f:
            return " amx_int8" in f.read()
    except OSError:
        return False


def run_eval(args, level):
    env = dict(os.environ)
    env.pop("MOODSYNC_NN_KERNELS", None)
    if level:
        env["MOODSYNC_NN_KERNELS"] = level
    p = subprocess.run([moodsync_bin(), "eval"] + args, capture_output=True, text=True,
                       timeout=600, env=env)
    return p.returncode, p.stdout, p.stderr


def main():
    t = Tap()
    if not has_amx():
        print("ok - # SKIP no AMX on this CPU")
        return 0
    model = default_model()
    fer = os.path.join(data_dir(), "fer2013", "publictest.bin")
    base = ["--fer", fer, "--json", "--tta"] + (["--model", model] if model else [])
    for extra, name in (([], "flip TTA"), (["--calib", "1"], "--calib 1")):
        rc_a, out_a, err_a = run_eval(base + extra, None)
        rc_v, out_v, err_v = run_eval(base + extra, "int8")
        t.ok(rc_a == 0 and rc_v == 0 and '"accuracy"' in out_a,
             "eval %s runs at both levels" % name, err_a + err_v)
        t.ok(out_a == out_v, "eval %s: AMX and VNNI print the same figures" % name,
             "amx:  %s\nint8: %s" % (out_a[:300], out_v[:300]))
    return t.exit_code()


if __name__ == "__main__":
    sys.exit(main())
