#!/usr/bin/env python3
"""st_compare.py A B [TOL]: two safetensors files hold the same tensors (names, shapes) with
values equal to float rounding: max |a - b| / max |b| over all the tensors <= TOL (default
1e-5) and every element within numpy.allclose(a, b, rtol=1e-5, atol=1e-6). Prints the worst
relative difference; exits 0 when they match, 1 when they do not, 2 on a bad file.
The standard library only (struct, json), so it runs where numpy is not installed."""
import json
import struct
import sys


def read(path):
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack_from("<Q", raw, 0)
    head = json.loads(raw[8:8 + n])
    body = raw[8 + n:]
    out = {}
    for name, t in head.items():
        if name == "__metadata__":
            continue
        if t["dtype"] != "F32":
            raise ValueError(f"{path}: {name} is {t['dtype']}, not F32")
        lo, hi = t["data_offsets"]
        count = (hi - lo) // 4
        out[name] = (tuple(t["shape"]), struct.unpack_from(f"<{count}f", body, lo))
    return out


def main():
    if len(sys.argv) not in (3, 4):
        print(__doc__.splitlines()[0], file=sys.stderr)
        return 2
    tol = float(sys.argv[3]) if len(sys.argv) == 4 else 1e-5
    try:
        a, b = read(sys.argv[1]), read(sys.argv[2])
    except (OSError, ValueError, KeyError, struct.error) as e:
        print(f"st_compare: {e}", file=sys.stderr)
        return 2
    if sorted(a) != sorted(b):
        print(f"st_compare: different tensors: {sorted(a)} vs {sorted(b)}")
        return 1
    # the whole parameter block's scale, as the flat block the ranks sum: a tensor that stays
    # near zero (a bias under batch norm, whose gradient is 0) is compared in absolute terms
    scale = max((abs(v) for name in a for v in b[name][1]), default=0.0) or 1.0
    worst, where, loose = 0.0, "", 0
    for name in sorted(a):
        (sa, va), (sb, vb) = a[name], b[name]
        if sa != sb:
            print(f"st_compare: {name}: shape {sa} vs {sb}")
            return 1
        diff = max((abs(x - y) for x, y in zip(va, vb)), default=0.0)
        loose += sum(1 for x, y in zip(va, vb) if not abs(x - y) <= 1e-6 + 1e-5 * abs(y))
        if diff / scale >= worst:
            worst, where = diff / scale, name
    print(f"max relative difference {worst:.3g} ({where}); {loose} elements not allclose")
    return 0 if worst <= tol and loose == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
