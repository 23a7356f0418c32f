#!/usr/bin/env python3
"""gen_act_reference.py: golden activation values and derivatives from PyTorch.

    scripts/gen_act_reference.py > tests/act_reference.h
    scripts/gen_act_reference.py --check build/libtinymlp.so   # dense sweep of the C library

Needs PyTorch and mpmath (Debian: `apt-get install python3-torch`, which brings
python3-mpmath; run it with /usr/bin/python3). The tests only read the generated header, so
they never need either.

What is computed. For every activation in ACTS (and a few ':arg' variants) and every x in
GRID: the value f(x), the derivative df/dx, and for learnable activations df/dparam at the
parameter's initial value. The row-wise activations get a few row vectors, each with a fixed
upstream gradient dy, and store y and the vector-Jacobian product dx = J^T dy.

How. Two independent evaluations must agree before anything is written:
  1. PyTorch: torch.nn.functional in float64 with autograd. This is the definition, including
     the conventions at corners (relu'(0) = 0, elu'(0) = alpha, hardtanh'(+-1) = 0, softplus's
     threshold, ...).
  2. mpmath at 40 significant digits, each function written out (formulas in MP below) in a
     form that never cancels.
They must agree to 1e-7 relative or 1e-12 absolute (anything else is a wrong convention or a
wrong formula here, and the script stops). The stored number is (2) rounded to float32:
float64 PyTorch itself loses all digits in places (gelu(-8.4) computes 1 + erf(-5.9) = 0;
sigmoid'(37) = y (1 - y) with 1 - y = 1e-16), and torch's float32 kernels lose many more
(gelu_tanh(-5) is ~30% off), so neither can judge a float32 library that is meant to be
accurate to 1e-6 relative everywhere. Inputs and ':arg' values are float32, as the C library
sees them, and every number is printed with %.9g, which reads back exactly.

--check LIB loads the shared library with ctypes and compares every built-in activation over
~35 000 points spanning [-100, 100] (dense near 0 and the corners, and log-spaced in
magnitude) against the mpmath reference, printing the worst relative error per activation,
with the same absolute floor as tests/test_act.c.
"""
import ctypes
import math
import struct
import sys

import mpmath as mp
import torch
import torch.nn.functional as F

torch.set_default_dtype(torch.float64)
mp.mp.dps = 40

# The relative tolerance and absolute floor tests/test_act.c uses.
REL_TOL = 1e-6
ABS_FLOOR = 1e-30

SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


def f32(v):
    """v rounded to the nearest float32, as a Python float."""
    return struct.unpack('f', struct.pack('f', v))[0]


def swish(x, b):
    return x * torch.sigmoid(b * x)


def binary_step(x):
    # torch.heaviside has no autograd; the derivative is 0 by definition (0 * x keeps the graph).
    return torch.heaviside(x.detach(), torch.tensor(1.0)) + 0.0 * x


# name -> (f(x, arg, param) -> y, default arg or None, learnable parameter's initial value or None).
# param is a tensor shaped like x (one parameter per point) so autograd gives df/dparam per point.
ACTS = {
    'identity': (lambda x, a, p: x + 0.0, None, None),
    'binary_step': (lambda x, a, p: binary_step(x), None, None),
    'sigmoid': (lambda x, a, p: torch.sigmoid(x), None, None),
    'hard_sigmoid': (lambda x, a, p: F.hardsigmoid(x), None, None),
    'tanh': (lambda x, a, p: torch.tanh(x), None, None),
    'hardtanh': (lambda x, a, p: F.hardtanh(x), None, None),
    'softsign': (lambda x, a, p: F.softsign(x), None, None),
    'relu': (lambda x, a, p: F.relu(x), None, None),
    'relu6': (lambda x, a, p: F.relu6(x), None, None),
    'leaky_relu': (lambda x, a, p: F.leaky_relu(x, a), 0.01, None),
    'prelu': (lambda x, a, p: F.prelu(x.view(1, -1), p).view(-1), None, 0.25),
    'elu': (lambda x, a, p: F.elu(x, a), 1.0, None),
    'selu': (lambda x, a, p: F.selu(x), None, None),
    'celu': (lambda x, a, p: F.celu(x, a), 1.0, None),
    'softplus': (lambda x, a, p: F.softplus(x, beta=a, threshold=20), 1.0, None),
    'gelu': (lambda x, a, p: F.gelu(x), None, None),
    'gelu_tanh': (lambda x, a, p: F.gelu(x, approximate='tanh'), None, None),
    'silu': (lambda x, a, p: F.silu(x), None, None),
    'swish': (lambda x, a, p: swish(x, a), 1.0, None),
    'swish_learnable': (lambda x, a, p: swish(x, p), None, 1.0),
    'mish': (lambda x, a, p: F.mish(x), None, None),
}
ROWWISE = {
    'softmax': lambda x: F.softmax(x, dim=0),
    'log_softmax': lambda x: F.log_softmax(x, dim=0),
}

# ---- the same functions in mpmath, written so that nothing cancels ---------------------------
# Each takes x, the ':arg' a and the parameter p (mpf or None) and returns (f, df/dx, df/dp).

def _sig(z):
    """(sigma(z), sigma(z) sigma(-z)) without cancellation."""
    e = mp.exp(-abs(z))
    s = 1 / (1 + e) if z >= 0 else e / (1 + e)
    return s, e / (1 + e) ** 2


def _elu(x, a, scale=1, iscale=1):
    # PyTorch's elu kernel: x <= 0 takes the exponential branch, so f'(0) = a * iscale * scale.
    if x > 0:
        return scale * x, mp.mpf(scale), 0
    return scale * a * mp.expm1(x * iscale), scale * a * iscale * mp.exp(x * iscale), 0


def _swish(x, b):
    s, ss = _sig(b * x)
    return x * s, s + b * x * ss, x * x * ss


def _gelu_tanh(x):
    k = mp.sqrt(2 / mp.pi)
    u = k * (x + mp.mpf('0.044715') * x ** 3)
    du = k * (1 + 3 * mp.mpf('0.044715') * x ** 2)
    s, ss = _sig(2 * u)                       # (1 + tanh u) / 2 = sigma(2u)
    return x * s, s + x * ss * 2 * du, 0


def _gelu(x):
    cdf = mp.erfc(-x / mp.sqrt(2)) / 2
    return x * cdf, cdf + x * mp.npdf(x), 0


def _softplus(x, b):
    if b * x > 20:                            # PyTorch's threshold: linear above it
        return x, mp.mpf(1), 0
    return mp.log1p(mp.exp(b * x)) / b, _sig(b * x)[0], 0


def _mish(x):
    sp = mp.log1p(mp.exp(x))
    return x * mp.tanh(sp), mp.tanh(sp) + x * _sig(x)[0] * mp.sech(sp) ** 2, 0


SELU_A = mp.mpf('1.6732632423543772848170429916717')
SELU_S = mp.mpf('1.0507009873554804934193349852946')
MP = {
    'identity': lambda x, a, p: (x, mp.mpf(1), 0),
    'binary_step': lambda x, a, p: (mp.mpf(1 if x >= 0 else 0), 0, 0),
    'sigmoid': lambda x, a, p: _sig(x) + (0,),
    'hard_sigmoid': lambda x, a, p: ((0 if x <= -3 else 1 if x >= 3 else x / 6 + mp.mpf(1) / 2),
                                     (mp.mpf(1) / 6 if -3 < x < 3 else 0), 0),
    'tanh': lambda x, a, p: (mp.tanh(x), mp.sech(x) ** 2, 0),
    'hardtanh': lambda x, a, p: (min(max(x, -1), 1), (1 if -1 < x < 1 else 0), 0),
    'softsign': lambda x, a, p: (x / (1 + abs(x)), 1 / (1 + abs(x)) ** 2, 0),
    'relu': lambda x, a, p: (max(x, 0), (1 if x > 0 else 0), 0),
    'relu6': lambda x, a, p: (min(max(x, 0), 6), (1 if 0 < x < 6 else 0), 0),
    'leaky_relu': lambda x, a, p: ((x, 1, 0) if x > 0 else (a * x, a, 0)),
    'prelu': lambda x, a, p: ((x, 1, 0) if x > 0 else (p * x, p, x)),
    'elu': lambda x, a, p: _elu(x, a),
    'selu': lambda x, a, p: _elu(x, SELU_A, SELU_S),
    'celu': lambda x, a, p: _elu(x, a, 1, 1 / a),
    'softplus': lambda x, a, p: _softplus(x, a),
    'gelu': lambda x, a, p: _gelu(x),
    'gelu_tanh': lambda x, a, p: _gelu_tanh(x),
    'silu': lambda x, a, p: _swish(x, 1)[:2] + (0,),
    'swish': lambda x, a, p: _swish(x, a)[:2] + (0,),
    'swish_learnable': lambda x, a, p: _swish(x, p),
    'mish': lambda x, a, p: _mish(x),
}


def mp_rowwise(name, x, dy):
    """(y, dx = J^T dy) of one row, at a precision where the plain formulas are exact enough."""
    with mp.workdps(400):
        x = [mp.mpf(v) for v in x]
        dy = [mp.mpf(v) for v in dy]
        m = max(x)
        z = sum(mp.exp(v - m) for v in x)
        p = [mp.exp(v - m) / z for v in x]
        if name == 'softmax':
            dot = sum(a * b for a, b in zip(p, dy))
            return p, [a * (b - dot) for a, b in zip(p, dy)]
        return [v - m - mp.log(z) for v in x], [b - a * sum(dy) for a, b in zip(p, dy)]


def agree(t, m, what):
    """Stops unless the PyTorch value t and the mpmath value m agree (see the docstring)."""
    m = float(m)
    if not abs(t - m) <= 1e-7 * abs(m) + 1e-12:
        raise SystemExit('PyTorch and mpmath disagree on %s: %.17g vs %.17g' % (what, t, m))

# Extra ':arg' variants checked besides each default.
VARIANTS = ['leaky_relu:0.2', 'elu:0.5', 'celu:0.7', 'softplus:2', 'swish:1.5', 'softplus:0.5',
            'elu:2']

# Points: 0, +-1e-3, the corners (+-1, +-3, 6) and either side of them, the tails.
_pos = [1e-3, 0.1, 0.5, 0.999, 1.0, 1.001, 2.0, 2.999, 3.0, 3.001, 5.0, 5.999, 6.0, 6.001, 10.0,
        20.0, 50.0, 100.0]
GRID = [f32(v) for v in sorted([-v for v in _pos] + [0.0] + _pos)]

# Row vectors for softmax / log_softmax, each with its upstream gradient dy.
ROWS = [
    [-2.0, -1.0, 0.0, 1.0, 2.0],
    [-100.0, -50.0, -1e-3, 0.0, 1e-3, 50.0, 100.0],
    [3.0, 3.0, 3.0],
    [0.5],
    [-20.0, 0.0, 20.0],
    [5.0, -5.0, 0.1, -0.1, 1e-3, 0.0],
]
DY = [1.0, -0.5, 0.3, 2.0, -1.5, 0.75, 0.1]   # no dx_j is exactly 0


def split(spec):
    """'name:arg' -> (name, float32 arg or None), the default arg when none is given."""
    name, _, a = spec.partition(':')
    default = ACTS[name][1] if name in ACTS else None
    arg = float(a) if a else default
    return name, (f32(arg) if arg is not None else None)


def elementwise(spec, xs):
    """(y, dy/dx, dy/dparam) lists for the float32 points xs: PyTorch (float64 autograd) and
    mpmath checked against each other, mpmath's returned."""
    name, arg = split(spec)
    fn, _, pinit = ACTS[name]
    x = torch.tensor(xs, requires_grad=True)
    p = torch.full_like(x, pinit, requires_grad=True) if pinit is not None else None
    y = fn(x, arg, p)
    grads = torch.autograd.grad(y.sum(), [x] + ([p] if p is not None else []))
    dp = grads[1].tolist() if p is not None else [0.0] * len(xs)
    out = ([], [], [])
    a = mp.mpf(arg) if arg is not None else None
    pm = mp.mpf(pinit) if pinit is not None else None
    for i, (xv, ty, td, tp) in enumerate(zip(xs, y.tolist(), grads[0].tolist(), dp)):
        for k, (t, m) in enumerate(zip((ty, td, tp), MP[name](mp.mpf(xv), a, pm))):
            agree(t, m, '%s %s at x = %.9g' % (spec, ('f', "f'", 'df/dp')[k], xv))
            out[k].append(float(m))
    return out


def rowwise(name, row):
    """(y, dx = J^T dy, dy) for one row vector, checked like elementwise()."""
    xs = [f32(v) for v in row]
    x = torch.tensor(xs, requires_grad=True)
    dy = torch.tensor(DY[:len(row)])
    y = ROWWISE[name](x)
    (dx,) = torch.autograd.grad(y, x, dy)
    my, mdx = mp_rowwise(name, xs, dy.tolist())
    for t, m in zip(y.tolist() + dx.tolist(), my + mdx):
        agree(t, m, '%s row %s' % (name, row))
    return [float(v) for v in my], [float(v) for v in mdx], dy.tolist()


def c_float(v):
    """A C float literal that reads back as f32(v)."""
    v = f32(v)
    if math.isinf(v) or math.isnan(v):
        raise ValueError('reference value is not finite: %r' % v)
    s = '%.9g' % v
    if not any(c in s for c in '.e'):
        s += '.0'
    return s + 'f'


def all_specs():
    return list(ACTS) + VARIANTS


def generate(out):
    w = out.write
    w('/* act_reference.h: GENERATED by scripts/gen_act_reference.py from PyTorch %s; do not edit.\n'
      % torch.__version__)
    w(' *\n'
      ' * Golden values for tests/test_act.c. Inputs and outputs are float32; each number is\n'
      ' * mpmath at 40 digits, checked against torch.nn.functional in float64 with autograd\n'
      ' * (PyTorch defines the function and its conventions at corners; see the script for why\n'
      ' * the stored digits come from mpmath).\n'
      ' * dydp is df/dparam at the learnable parameter\'s initial value (0 when there is none).\n'
      ' * Row-wise entries hold one row x, an upstream gradient dy, y and dx = J^T dy. */\n')
    w('#ifndef TINYMLP_ACT_REFERENCE_H\n#define TINYMLP_ACT_REFERENCE_H\n\n')
    w('typedef struct act_ref_point {\n    const char *spec; /* "name" or "name:arg" */\n'
      '    float x, y, dydx, dydp;\n} act_ref_point;\n\n')
    w('#define ACT_REF_MAX_COLS %d\n\n' % max(len(r) for r in ROWS))
    w('typedef struct act_ref_row {\n    const char *spec;\n    int n;\n'
      '    float x[ACT_REF_MAX_COLS], dy[ACT_REF_MAX_COLS], y[ACT_REF_MAX_COLS], dx[ACT_REF_MAX_COLS];\n'
      '} act_ref_row;\n\n')
    w('static const act_ref_point act_ref_points[] = {\n')
    for spec in all_specs():
        ys, ds, ps = elementwise(spec, GRID)
        for x, y, d, p in zip(GRID, ys, ds, ps):
            w('    { "%s", %s, %s, %s, %s },\n' % (spec, c_float(x), c_float(y), c_float(d), c_float(p)))
    w('};\n\n')
    w('static const act_ref_row act_ref_rows[] = {\n')
    for name in ROWWISE:
        for row in ROWS:
            y, dx, dy = rowwise(name, row)
            fmt = lambda vs: '{ ' + ', '.join(c_float(v) for v in vs) + ' }'
            w('    { "%s", %d, %s,\n      %s,\n      %s,\n      %s },\n'
              % (name, len(row), fmt(row), fmt(dy), fmt(y), fmt(dx)))
    w('};\n\n#endif\n')


# ---- --check: the C library against the reference over a dense sweep -------------------------

FWD = ctypes.CFUNCTYPE(None, ctypes.c_int, ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p,
                       ctypes.c_float, ctypes.c_void_p)
BWD = ctypes.CFUNCTYPE(None, ctypes.c_int, ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p,
                       ctypes.c_void_p, ctypes.c_void_p, ctypes.c_float, ctypes.c_void_p,
                       ctypes.c_void_p)


class Act(ctypes.Structure):
    _fields_ = [('name', ctypes.c_char_p), ('formula', ctypes.c_char_p), ('range', ctypes.c_char_p),
                ('flags', ctypes.c_uint), ('arg', ctypes.c_float), ('params', ctypes.c_int),
                ('param_init', ctypes.c_float), ('init', ctypes.c_int), ('n_kinks', ctypes.c_int),
                ('kinks', ctypes.c_float * 4), ('forward', FWD), ('backward', BWD)]


def sweep_points():
    pts = set()
    n = 20000
    for i in range(n + 1):                      # uniform over [-100, 100]
        pts.add(f32(-100.0 + 200.0 * i / n))
    for i in range(4000):                       # log-spaced magnitudes 1e-8 .. 100
        m = 10.0 ** (-8.0 + 10.0 * i / 3999)
        pts.add(f32(m))
        pts.add(f32(-m))
    for c in (-6.0, -3.0, -1.0, 0.0, 1.0, 3.0, 6.0):   # around the corners
        for i in range(-500, 501):
            pts.add(f32(c + i * 1e-4))
    return sorted(pts)


def rel_err(got, want):
    return abs(got - want) / max(abs(want), ABS_FLOOR / REL_TOL)


def check(libpath):
    lib = ctypes.CDLL(libpath)
    lib.tmlp_act_find.restype = ctypes.POINTER(Act)
    lib.tmlp_act_find.argtypes = [ctypes.c_char_p]
    xs = sweep_points()
    n = len(xs)
    bad = 0
    print('%d points in [-100, 100]; tolerance %g relative, absolute floor %g' % (n, REL_TOL, ABS_FLOOR))
    print('%-18s %12s %10s %12s %10s' % ('activation', 'max err y', 'at x', 'max err dydx', 'at x'))
    for spec in all_specs():
        name, arg = split(spec)
        a = lib.tmlp_act_find(name.encode()).contents
        ys, ds, _ = elementwise(spec, xs)
        x = torch.tensor(xs, dtype=torch.float32)
        y = torch.empty_like(x)
        dx = torch.empty_like(x)
        dy = torch.ones_like(x)
        p = torch.full((1,), a.param_init, dtype=torch.float32)   # rows = n, cols = 1
        dp = torch.zeros(1, dtype=torch.float32)
        pp = p.data_ptr() if a.params else None
        a.forward(n, 1, x.data_ptr(), y.data_ptr(), arg or 0.0, pp)
        a.backward(n, 1, x.data_ptr(), y.data_ptr(), dy.data_ptr(), dx.data_ptr(), arg or 0.0, pp,
                   dp.data_ptr() if a.params else None)
        worst = []
        for got, want in ((y.tolist(), ys), (dx.tolist(), ds)):
            e, at = max((rel_err(g, f32(w)), xv) for g, w, xv in zip(got, want, xs))
            worst += [e, at]
        ok = worst[0] <= REL_TOL and worst[2] <= REL_TOL
        bad += not ok
        print('%-18s %12.3g %10.6g %12.3g %10.6g  %s' % (spec, worst[0], worst[1], worst[2], worst[3],
                                                         'ok' if ok else 'FAIL'))
    return 1 if bad else 0


def main(argv):
    if len(argv) == 3 and argv[1] == '--check':
        return check(argv[2])
    if len(argv) != 1:
        sys.stderr.write(__doc__)
        return 2
    generate(sys.stdout)
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
