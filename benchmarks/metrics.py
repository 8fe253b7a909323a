"""Benchmark: vectorised NAR on 10^6 pairs vs lmms-eval's per-item VSI-Bench ``mean_relative_accuracy``.

Run: ``python benchmarks/metrics.py [--n 1000000] [--ref-sample 50000]``.

The reference is the way lmms-eval scores VSI-Bench: one ``mean_relative_accuracy(p, t, .5, .95, .05)`` call
per question. Looping it over all 10^6 pairs takes a while, so by default it is timed on a random
subsample (``--ref-sample``) and extrapolated linearly (the loop is O(n); the output says so). Both results
are checked for bit-equality on the subsample. Everything is measured in this one run.
A torch CUDA timing is added when ``torch.cuda.is_available()``.
"""

from __future__ import annotations

import argparse
import time

import numpy as np


def _best_of(fn, repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000, help="number of (prediction, target) pairs")
    parser.add_argument("--ref-sample", type=int, default=50_000, help="pairs timed with the per-item reference")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    from lmms_eval.tasks.vsibench.utils import mean_relative_accuracy

    from spatial_r1_eval.metrics import nar

    rng = np.random.default_rng(args.seed)
    target = np.round(rng.uniform(0.1, 500.0, args.n), 1)
    pred = np.round(target * rng.uniform(0.0, 2.0, args.n), 1)

    t_nar = _best_of(lambda: nar(pred, target), 3)
    ours = nar(pred, target)

    k = min(args.ref_sample, args.n)
    idx = rng.choice(args.n, k, replace=False)
    p_list, t_list = pred[idx].tolist(), target[idx].tolist()
    start = time.perf_counter()
    ref = [mean_relative_accuracy(p, t, 0.5, 0.95, 0.05) for p, t in zip(p_list, t_list, strict=True)]
    t_ref_sample = time.perf_counter() - start
    if not np.array_equal(np.asarray(ref), ours[idx]):
        raise SystemExit("MISMATCH: nar differs from lmms-eval mean_relative_accuracy")
    t_ref = t_ref_sample * args.n / k
    extrapolated = f" (extrapolated from a timed subsample of {k})" if k < args.n else ""

    print(f"pairs: {args.n:,}   results identical to lmms-eval on {k:,} checked pairs")
    print(f"lmms-eval mean_relative_accuracy, per item : {t_ref:9.3f} s{extrapolated}")
    print(f"spatial_r1_eval.metrics.nar, NumPy (CPU)   : {t_nar:9.4f} s   speed-up {t_ref / t_nar:8.0f}x")

    import torch

    tp, tt = torch.from_numpy(pred), torch.from_numpy(target)
    t_cpu = _best_of(lambda: nar(tp, tt), 3)
    print(f"spatial_r1_eval.metrics.nar, torch (CPU)   : {t_cpu:9.4f} s   speed-up {t_ref / t_cpu:8.0f}x")
    if torch.cuda.is_available():
        gp, gt = tp.cuda(), tt.cuda()
        nar(gp, gt)
        torch.cuda.synchronize()

        def run_cuda() -> None:
            nar(gp, gt)
            torch.cuda.synchronize()

        t_gpu = _best_of(run_cuda, 5)
        same = np.array_equal(nar(gp, gt).cpu().numpy(), ours)
        name = torch.cuda.get_device_name(0)
        print(f"spatial_r1_eval.metrics.nar, torch CUDA    : {t_gpu:9.4f} s   speed-up {t_ref / t_gpu:8.0f}x "
              f"({name}; identical: {same})")  # fmt: skip
    else:
        print("torch CUDA: skipped (torch.cuda.is_available() is False on this machine)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
