#!/usr/bin/env python3
"""torch_ref.py: the peer run for `make bench`.

Trains the configurations bench/bench.c measured (read from bench/results.json) in PyTorch on
the CPU, with the same data, batch sizes, optimizer and epoch counts, then adds PyTorch's
figures and tinymlp's speed-ups to results.json, prints the comparison tables and, last, the
issue-20 targets bench.c computed (from results.json).
Speed: each configuration is timed on 1 thread and on T threads (torch.set_num_threads), T
being the thread count of tinymlp's multi-thread run of it (team_threads), or, where tinymlp
trains on one thread, every CPU (PyTorch's own default; "threads" in results.json). The two
PyTorch runs are interleaved epoch by epoch, as in bench.c, each with its own random stream.
Seconds per epoch are medians after one warm-up epoch. tinymlp is quoted against PyTorch's
faster setting: tinymlp on 1 thread against it, and tinymlp on T threads against it.
Accuracy: where bench.c averaged test accuracy over several seeds, so does this (seed 1 is the
timed T-thread run; the other seeds untimed, in parallel processes of one thread each).
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


def setup(cfg, data):
    """The training and test tensors, output width, loss and learning rate of cfg."""
    if cfg["data"] == "xor":
        x = torch.tensor([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=torch.float32)
        y = torch.tensor([[0], [1], [1], [0]], dtype=torch.float32)
        return x, y, x, y, 1, torch.nn.BCEWithLogitsLoss(), 0.05
    x, y, xt, yt = data
    return (x[: cfg["train_rows"]], y[: cfg["train_rows"]], xt, yt, 10,
            torch.nn.CrossEntropyLoss(), 1e-3)


def epoch(model, opt, loss_fn, x, y, b):
    """One epoch in a random order (from torch's global generator); its seconds."""
    n = x.shape[0]
    perm = torch.randperm(n)
    t0 = time.perf_counter()
    for i in range(0, n, b):
        sel = perm[i:i + b]
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(model(x[sel]), y[sel])
        loss.backward()
        opt.step()
    return time.perf_counter() - t0


def test_accuracy(model, xt, yt, n_out):
    with torch.no_grad():
        out = model(xt)
        return ((out > 0).float() == yt).float().mean().item() if n_out == 1 else \
            (out.argmax(1) == yt).float().mean().item()


def run(cfg, data, seed=1, like_tinymlp=True):
    """cfg trained from seed on the current thread count: median s/epoch, test accuracy."""
    torch.manual_seed(seed)
    x, y, xt, yt, n_out, loss_fn, lr = setup(cfg, data)
    model = build(x.shape[1], cfg["layers"], n_out, like_tinymlp)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    times = [epoch(model, opt, loss_fn, x, y, cfg["batch"])
             for _ in range(1 + cfg["epochs_measured"])]
    return statistics.median(times[1:]), test_accuracy(model, xt, yt, n_out)


def run_settings(cfg, data, settings, seed=1):
    """cfg trained from seed once per thread count in settings, the runs interleaved epoch by
    epoch (the order alternating from round to round), each on its own copy of torch's random
    stream, so that each run is the one run() would make. Per setting: the epoch times, the
    median over the epochs after the warm-up, and the test accuracy."""
    x, y, xt, yt, n_out, loss_fn, lr = setup(cfg, data)
    runs = []
    for t in settings:
        torch.manual_seed(seed)
        model = build(x.shape[1], cfg["layers"], n_out)
        runs.append({"threads": t, "model": model, "times": [], "rng": torch.get_rng_state(),
                     "opt": torch.optim.Adam(model.parameters(), lr=lr)})
    for k in range(1 + cfg["epochs_measured"]):
        for r in (runs if k % 2 == 0 else runs[::-1]):
            torch.set_num_threads(r["threads"])
            torch.set_rng_state(r["rng"])
            r["times"].append(epoch(r["model"], r["opt"], loss_fn, x, y, cfg["batch"]))
            r["rng"] = torch.get_rng_state()
    out = {}
    for r in runs:
        torch.set_num_threads(r["threads"])
        out[r["threads"]] = {"epoch_seconds": statistics.median(r["times"][1:]),
                             "epoch_seconds_all": r["times"],
                             "test_accuracy": test_accuracy(r["model"], xt, yt, n_out)}
    return out


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
    data = mnist()
    print(f"\nPyTorch {torch.__version__} on the CPU, same configurations, each on 1 thread and on T "
          f"threads\n(T: as tinymlp's multi-thread run; {res['threads']} where tinymlp trains on "
          "one thread), interleaved epoch by epoch.\nspeed-up: PyTorch's faster setting "
          "(best) / tinymlp, tinymlp on 1 thread and on T threads.\n")
    print(f"{'config':8} {'T':>2} {'torch 1 thr':>12} {'torch T thr':>12} {'best':>6} "
          f"{'tinymlp 1 thr':>14} {'speed-up':>9} {'tinymlp T thr':>14} {'speed-up':>9}")
    peer, timed = [], []
    for cfg in res["tinymlp"]:
        cfg_t = dict(cfg)
        if cfg["data"] == "xor":
            cfg_t["epochs_measured"] = min(cfg["epochs_measured"], 200)  # per-step overhead dominates
        t_multi = cfg.get("team_threads", 1)
        if t_multi <= 1:
            t_multi = res["threads"]
        settings = sorted({1, t_multi})
        by = run_settings(cfg_t, data, settings)
        best_t = min(settings, key=lambda t: by[t]["epoch_seconds"])
        best = by[best_t]["epoch_seconds"]
        ours_1 = cfg["one_thread"]["epoch_seconds"]
        multi = cfg.get("team_threads", 1) > 1
        ours_t = cfg["epoch_seconds"] if multi else None
        entry = {"config": cfg["config"], "threads_compared": settings,
                 "by_threads": {str(t): by[t] for t in settings},
                 "epoch_seconds": best, "best_threads": best_t,
                 "tinymlp_one_thread_speedup": best / ours_1,
                 "tinymlp_speedup": best / cfg["epoch_seconds"]}
        print(f"{cfg['config']:8} {t_multi:2d} {by[1]['epoch_seconds']:12.3f} "
              f"{by[t_multi]['epoch_seconds']:12.3f} {str(best_t) + ' thr':>6} {ours_1:14.3f} "
              f"{best / ours_1:8.1f}x "
              + (f"{ours_t:14.3f} {best / ours_t:8.1f}x" if multi else f"{'-':>14} {'-':>9}"),
              flush=True)
        peer.append(entry)
        timed.append((cfg, cfg_t, by[t_multi]["test_accuracy"]))

    print("\nAccuracies are means over seeds 1..n in each (the two frameworks draw differently, so\n"
          "seed k is not the same run in both). torch acc: started the way\n"
          "tinymlp starts; (default): PyTorch's own initialisation, over the first "
          f"{MAX_DEFAULT_SEEDS} seeds at most.\n"
          "difference: tinymlp's mean minus PyTorch's, +- its standard error.\n")
    print(f"{'config':8} {'torch acc':>10} {'(default)':>10} {'tinymlp acc':>12} {'difference':>14} "
          f"{'n':>3} {'/1thr floor':>12} {'/best floor':>12}")
    for (cfg, cfg_t, acc), entry in zip(timed, peer):
        # the same seeds as tinymlp's accuracy (its test_accuracy is their mean); seed 1 timed
        n_seeds = len(cfg.get("test_accuracy_seeds", [0]))
        torch.set_num_threads(res["threads"])
        accs = [acc] + accuracies(cfg_t, range(2, n_seeds + 1), True, res["threads"])
        acc, acc_se = mean_se(accs)
        accs_default = accuracies(cfg_t, range(1, min(n_seeds, MAX_DEFAULT_SEEDS) + 1), False,
                                  res["threads"])
        acc_default = statistics.mean(accs_default)
        ours, ours_se = mean_se(cfg.get("test_accuracy_seeds", [cfg["test_accuracy"]]))
        entry.update({"test_accuracy": acc, "test_accuracy_stderr": acc_se,
                      "test_accuracy_seeds": accs, "test_accuracy_default_init": acc_default,
                      "test_accuracy_default_init_seeds": accs_default})
        # seed k of one framework and seed k of the other share nothing: unpaired samples
        gap = f"{100 * (ours - acc):+.2f}"
        if n_seeds > 1:
            gap += f" +- {100 * (ours_se ** 2 + acc_se ** 2) ** 0.5:.2f}"
        print(f"{cfg['config']:8} {100 * acc:9.2f}% {100 * acc_default:9.2f}% {100 * ours:11.2f}% "
              f"{gap:>14} {n_seeds:3d} {cfg['one_thread']['ratio_to_floor']:11.2f}x "
              f"{cfg['ratio_to_floor']:11.2f}x", flush=True)
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
    summary(res)


def summary(res):
    """The issue-20 targets as bench.c measured and judged them (results.json "summary")."""
    cpu = res.get("cpu", {})
    print(f"\nIssue 20 targets, {cpu.get('model_name', '?')} (family {cpu.get('family', '?')}, "
          f"model {cpu.get('model', '?')}; {cpu.get('microarch_inferred') or 'microarchitecture unknown'}"
          f"{', inferred' if cpu.get('microarch_inferred') else ''}):")
    for t in res.get("summary", []):
        print(f"  {t['text']:<66} {t['verdict']}")
    busy = res.get("busy")
    if busy:
        print(f"    (for context, no target: A, 1 thread, one core busy / free: "
              f"{busy['one_thread_busy_over_free']:.2f}\u00d7)")


if __name__ == "__main__":
    main()
