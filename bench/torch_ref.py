#!/usr/bin/env python3
"""torch_ref.py: the peer run for `make bench`.

Trains the configurations bench/bench.c measured (read from bench/results.json) in PyTorch on
the CPU, with the same data, batch sizes, optimizer, epoch counts and thread count, then adds
PyTorch's figures and tinymlp's speed-ups to results.json and prints the comparison table.
Seconds per epoch are medians after one warm-up epoch, as in bench.c; where bench.c averaged
test accuracy over several seeds, so does this (the extra seeds untimed). PyTorch runs with as
many threads as there are CPUs (its own default), tinymlp with what it chose per configuration.
Usage: /usr/bin/python3 bench/torch_ref.py [bench/results.json]
"""
import json
import os
import statistics
import sys
import time

import numpy as np
import torch


def idx(path):
    raw = open(path, "rb").read()
    nd = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(nd)]
    return np.frombuffer(raw, np.uint8, offset=4 + 4 * nd).reshape(dims)


def mnist():
    d = "data/mnist"
    x = idx(f"{d}/train-images-idx3-ubyte").reshape(60000, 784).astype(np.float32) / 255.0
    y = idx(f"{d}/train-labels-idx1-ubyte").astype(np.int64)
    xt = idx(f"{d}/t10k-images-idx3-ubyte").reshape(10000, 784).astype(np.float32) / 255.0
    yt = idx(f"{d}/t10k-labels-idx1-ubyte").astype(np.int64)
    return (torch.from_numpy(x), torch.from_numpy(y), torch.from_numpy(xt), torch.from_numpy(yt))


ACTS = {"relu": torch.nn.ReLU, "tanh": torch.nn.Tanh, "sigmoid": torch.nn.Sigmoid}


def build(n_in, layers, n_out):
    mods, width = [], n_in
    for item in layers.split(","):
        units, act = item.split(":")
        mods += [torch.nn.Linear(width, int(units)), ACTS[act]()]
        width = int(units)
    mods.append(torch.nn.Linear(width, n_out))
    return torch.nn.Sequential(*mods)


def run(cfg, data, seed=1):
    torch.manual_seed(seed)
    if cfg["data"] == "xor":
        x = torch.tensor([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=torch.float32)
        y = torch.tensor([[0], [1], [1], [0]], dtype=torch.float32)
        xt, yt, n_out, loss_fn, lr = x, y, 1, torch.nn.BCEWithLogitsLoss(), 0.05
    else:
        x, y, xt, yt = data
        x, y = x[: cfg["train_rows"]], y[: cfg["train_rows"]]
        n_out, loss_fn, lr = 10, torch.nn.CrossEntropyLoss(), 1e-3
    model = build(x.shape[1], cfg["layers"], n_out)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    n, b = x.shape[0], cfg["batch"]
    times = []
    for _ in range(1 + cfg["epochs_measured"]):
        perm = torch.randperm(n)
        t0 = time.perf_counter()
        for i in range(0, n, b):
            sel = perm[i:i + b]
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(model(x[sel]), y[sel])
            loss.backward()
            opt.step()
        times.append(time.perf_counter() - t0)
    with torch.no_grad():
        out = model(xt)
        acc = ((out > 0).float() == yt).float().mean().item() if n_out == 1 else \
            (out.argmax(1) == yt).float().mean().item()
    return statistics.median(times[1:]), acc


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else "bench/results.json"
    res = json.load(open(path))
    torch.set_num_threads(res["threads"])
    data = mnist()
    print(f"\nPyTorch {torch.__version__} on the CPU, {res['threads']} thread(s), same configurations:\n")
    print(f"{'config':8} {'torch s/ep':>11} {'tinymlp s/ep':>13} {'speed-up':>9} "
          f"{'torch acc':>10} {'tinymlp acc':>12} {'/oblas floor':>13} {'/best floor':>12}")
    peer = []
    for cfg in res["tinymlp"]:
        cfg_t = dict(cfg)
        if cfg["data"] == "xor":
            cfg_t["epochs_measured"] = min(cfg["epochs_measured"], 200)  # per-step overhead dominates
        secs, acc = run(cfg_t, data)
        # the same seeds as tinymlp's accuracy (its test_accuracy is their mean); timed once
        accs = [acc] + [run(cfg_t, data, seed)[1]
                        for seed in range(2, len(cfg.get("test_accuracy_seeds", [0])) + 1)]
        acc = statistics.mean(accs)
        speedup = secs / cfg["epoch_seconds"]
        peer.append({"config": cfg["config"], "epoch_seconds": secs, "test_accuracy": acc,
                     "test_accuracy_seeds": accs, "tinymlp_speedup": speedup})
        print(f"{cfg['config']:8} {secs:11.3f} {cfg['epoch_seconds']:13.3f} {speedup:8.1f}x "
              f"{100 * acc:9.2f}% {100 * cfg['test_accuracy']:11.2f}% "
              f"{cfg['ratio_to_openblas_floor']:12.2f}x {cfg['ratio_to_floor']:11.2f}x",
              flush=True)
    res["torch"] = {"version": torch.__version__, "runs": peer}
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(res, f, indent=2)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    print(f"\nwritten to {path}")


if __name__ == "__main__":
    main()
