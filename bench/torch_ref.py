#!/usr/bin/env python3
"""torch_ref.py: the peer run for `make bench`.

Trains the configurations bench/bench.c measured (read from bench/results.json) in PyTorch on
the CPU, with the same data, batch sizes, optimizer, epoch counts and thread count, then adds
PyTorch's figures and tinymlp's speed-ups to results.json and prints the comparison table.
Seconds per epoch are medians after one warm-up epoch, as in bench.c; where bench.c averaged
test accuracy over several seeds, so does this: the extra seeds untimed, in parallel processes
of one thread each. The timed run has as many threads as there are CPUs (PyTorch's own
default), tinymlp what it chose per configuration.
The networks start the way tinymlp's do (He-uniform weights before ReLU, Glorot-uniform before
anything else, zero biases), so that the accuracies compare the same model trained by the two
frameworks; the accuracy with PyTorch's own default initialisation, U(+-1/sqrt(fan_in)) for
weights and biases, is measured over (at most 10 of) the same seeds and printed beside it.
Usage: /usr/bin/python3 bench/torch_ref.py [bench/results.json]
"""
import json
import multiprocessing
import os
import statistics
import subprocess
import sys
import tempfile
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


MAX_DEFAULT_SEEDS = 10  # PyTorch's own initialisation: a reference point, fewer seeds

ACTS = {"relu": torch.nn.ReLU, "tanh": torch.nn.Tanh, "sigmoid": torch.nn.Sigmoid}


def build(n_in, layers, n_out, like_tinymlp=True):
    mods, width = [], n_in
    for item in layers.split(","):
        units, act = item.split(":")
        lin = torch.nn.Linear(width, int(units))
        if like_tinymlp:
            init_like_tinymlp(lin, act)
        mods += [lin, ACTS[act]()]
        width = int(units)
    out = torch.nn.Linear(width, n_out)
    if like_tinymlp:
        init_like_tinymlp(out, "identity")
    mods.append(out)
    return torch.nn.Sequential(*mods)


def init_like_tinymlp(lin, act):
    """tinymlp's automatic initialiser (src/act/*.c): He uniform, sqrt(6/fan_in), for ReLU;
    Glorot uniform, sqrt(6/(fan_in+fan_out)), for tanh, sigmoid and the output; zero biases."""
    with torch.no_grad():
        if act == "relu":
            torch.nn.init.kaiming_uniform_(lin.weight, nonlinearity="relu")
        else:
            torch.nn.init.xavier_uniform_(lin.weight)
        lin.bias.zero_()


def run(cfg, data, seed=1, like_tinymlp=True):
    torch.manual_seed(seed)
    if cfg["data"] == "xor":
        x = torch.tensor([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=torch.float32)
        y = torch.tensor([[0], [1], [1], [0]], dtype=torch.float32)
        xt, yt, n_out, loss_fn, lr = x, y, 1, torch.nn.BCEWithLogitsLoss(), 0.05
    else:
        x, y, xt, yt = data
        x, y = x[: cfg["train_rows"]], y[: cfg["train_rows"]]
        n_out, loss_fn, lr = 10, torch.nn.CrossEntropyLoss(), 1e-3
    model = build(x.shape[1], cfg["layers"], n_out, like_tinymlp)
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


_DATA = {}


def accuracy_only(cfg, seed, like_tinymlp, threads=1):
    """One untimed run for its test accuracy (in a worker process: on one thread)."""
    torch.set_num_threads(threads)
    if cfg["data"] not in _DATA:
        _DATA[cfg["data"]] = mnist() if cfg["data"] != "xor" else ()
    return run(cfg, _DATA[cfg["data"]], seed, like_tinymlp)[1]


def accuracies(cfg, seeds, like_tinymlp, threads):
    """Test accuracy for each seed. The runs are untimed, so several share the CPUs, one
    process of one thread each, at most `threads` at a time; a single seed runs here, on
    `threads` threads."""
    seeds = list(seeds)
    if len(seeds) <= 1:
        return [accuracy_only(cfg, s, like_tinymlp, threads) for s in seeds]
    procs = min(len(seeds), threads)
    with multiprocessing.get_context("spawn").Pool(procs) as pool:
        return pool.starmap(accuracy_only, [(cfg, s, like_tinymlp) for s in seeds])


def mean_se(v):
    """The mean of v and its standard error (0 for one value)."""
    m = statistics.mean(v)
    return m, (statistics.stdev(v) / len(v) ** 0.5 if len(v) > 1 else 0.0)


def same_steps(data, steps=300):
    """Config A from one set of initial weights on the same batches (MNIST's first rows in
    order, 32 at a time) in both frameworks: the largest difference between the final weights
    of PyTorch and of tinymlp (build/bench/bench --replay), and the largest weight."""
    torch.manual_seed(1)
    x, y = data[0], data[1]
    model = build(784, "128:relu,64:tanh", 10)
    with tempfile.TemporaryDirectory() as tmp:
        init, out = os.path.join(tmp, "init.bin"), os.path.join(tmp, "tinymlp.bin")
        np.concatenate([p.detach().numpy().ravel() for p in model.parameters()]).tofile(init)
        subprocess.run(["build/bench/bench", "--replay", init, str(steps), out], check=True)
        ours = np.fromfile(out, dtype=np.float32)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = torch.nn.CrossEntropyLoss()
    for k in range(steps):
        opt.zero_grad(set_to_none=True)
        loss_fn(model(x[32 * k:32 * k + 32]), y[32 * k:32 * k + 32]).backward()
        opt.step()
    theirs = np.concatenate([p.detach().numpy().ravel() for p in model.parameters()])
    return float(np.abs(ours - theirs).max()), float(np.abs(theirs).max())


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else "bench/results.json"
    res = json.load(open(path))
    torch.set_num_threads(res["threads"])
    data = mnist()
    print(f"\nPyTorch {torch.__version__} on the CPU, {res['threads']} thread(s), same configurations:\n")
    print("Accuracies are means over seeds 1..n in each (the two frameworks draw differently, so\n"
          "seed k is not the same run in both). torch acc: started the way\n"
          "tinymlp starts; (default): PyTorch's own initialisation, over the first "
          f"{MAX_DEFAULT_SEEDS} seeds at most.\n"
          "difference: tinymlp's mean minus PyTorch's, +- its standard error.\n")
    print(f"{'config':8} {'torch s/ep':>11} {'tinymlp s/ep':>13} {'speed-up':>9} "
          f"{'torch acc':>10} {'(default)':>10} {'tinymlp acc':>12} {'difference':>14} {'n':>3} "
          f"{'/oblas floor':>13} {'/best floor':>12}")
    peer = []
    for cfg in res["tinymlp"]:
        cfg_t = dict(cfg)
        if cfg["data"] == "xor":
            cfg_t["epochs_measured"] = min(cfg["epochs_measured"], 200)  # per-step overhead dominates
        secs, acc = run(cfg_t, data)
        # the same seeds as tinymlp's accuracy (its test_accuracy is their mean); timed once
        n_seeds = len(cfg.get("test_accuracy_seeds", [0]))
        accs = [acc] + accuracies(cfg_t, range(2, n_seeds + 1), True, res["threads"])
        acc, acc_se = mean_se(accs)
        accs_default = accuracies(cfg_t, range(1, min(n_seeds, MAX_DEFAULT_SEEDS) + 1), False,
                                  res["threads"])
        acc_default = statistics.mean(accs_default)
        ours, ours_se = mean_se(cfg.get("test_accuracy_seeds", [cfg["test_accuracy"]]))
        speedup = secs / cfg["epoch_seconds"]
        peer.append({"config": cfg["config"], "epoch_seconds": secs, "test_accuracy": acc,
                     "test_accuracy_stderr": acc_se, "test_accuracy_seeds": accs,
                     "test_accuracy_default_init": acc_default,
                     "test_accuracy_default_init_seeds": accs_default,
                     "tinymlp_speedup": speedup})
        # seed k of one framework and seed k of the other share nothing: unpaired samples
        gap = f"{100 * (ours - acc):+.2f}"
        if n_seeds > 1:
            gap += f" +- {100 * (ours_se ** 2 + acc_se ** 2) ** 0.5:.2f}"
        print(f"{cfg['config']:8} {secs:11.3f} {cfg['epoch_seconds']:13.3f} {speedup:8.1f}x "
              f"{100 * acc:9.2f}% {100 * acc_default:9.2f}% {100 * ours:11.2f}% {gap:>14} "
              f"{n_seeds:3d} {cfg['ratio_to_openblas_floor']:12.2f}x {cfg['ratio_to_floor']:11.2f}x",
              flush=True)
    diff, biggest = same_steps(data)
    print(f"\nSame start, same 300 batches (config A, Adam): the final weights differ by at most "
          f"{diff:.2g} (largest weight {biggest:.2g})")
    res["torch"] = {"version": torch.__version__, "runs": peer,
                    "same_steps": {"steps": 300, "max_abs_weight_diff": diff,
                                   "max_abs_weight": biggest}}
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(res, f, indent=2)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    print(f"\nwritten to {path}")


if __name__ == "__main__":
    main()
