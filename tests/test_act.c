/* test_act.c: the activation module: every built-in definition against PyTorch, its
 * gradients, its behaviour at extremes, the registry, and the docs' coverage of it.
 *
 * Golden values come from tests/act_reference.h (scripts/gen_act_reference.py: PyTorch
 * float64 autograd, cross-checked with mpmath at 40 digits, stored as float32). A value
 * passes when |got - want| <= 1e-6 * max(|want|, 1e-24), i.e. 1e-6 relative with an
 * absolute floor of 1e-30: below that lie only underflowing tails (sigmoid(-100) = 3.7e-44 is
 * a float32 denormal with 5 significant bits), where relative error means nothing.
 *
 * That the gradient checker fails wrong derivatives (so passing it means something) is tested
 * in test_gradcheck.c. */
#include <float.h>
#include <stdio.h>
#include <string.h>

#include "testutil.h"
#include "act_reference.h"
#include "act/act_impl.h" /* tmlp_act_exp */

#define REL_TOL 1e-6
#define ABS_FLOOR 1e-30

/* The built-in names, in any order: no test depends on the registry's order, so adding a
 * built-in means adding its name here (docs/custom-activations.md). Tests register extra
 * activations only under names starting with "user_". */
static const char *const builtin_names[] = {
    "identity", "binary_step", "sigmoid", "hard_sigmoid", "tanh", "hardtanh", "softsign",
    "relu", "relu6", "leaky_relu", "prelu", "elu", "selu", "celu", "softplus", "gelu",
    "gelu_tanh", "silu", "swish", "swish_learnable", "mish", "softmax", "log_softmax",
};
#define N_BUILTIN ((int)(sizeof builtin_names / sizeof builtin_names[0]))

/* ':arg' variants checked besides each default (the golden table has the same ones). */
static const char *const variants[] = {
    "leaky_relu:0.2", "elu:0.5", "celu:0.7", "softplus:2", "swish:1.5", "softplus:0.5", "elu:2",
};
#define N_VARIANTS ((int)(sizeof variants / sizeof variants[0]))

static int is_user(const tmlp_act *a) { return strncmp(a->name, "user_", 5) == 0; }

/* |got - want| <= REL_TOL * max(|want|, ABS_FLOOR / REL_TOL) */
static int close_to(double got, double want)
{
    return fabs(got - want) <= REL_TOL * fmax(fabs(want), ABS_FLOOR / REL_TOL);
}

static const tmlp_act *parse_ok(const char *spec, float *arg)
{
    const tmlp_act *a = NULL;
    tmlp_err err = { 0 };
    int rc = tmlp_act_parse(spec, &a, arg, &err);
    ck_assert_msg(rc == TMLP_OK, "parse '%s': %s", spec, err.msg);
    return a;
}

/* ---- against PyTorch --------------------------------------------------------------------- */

START_TEST(act_values_and_derivatives_match_pytorch)
{
    int n = (int)(sizeof act_ref_points / sizeof act_ref_points[0]), bad = 0;
    for (int i = 0; i < n; i++) {
        const act_ref_point *p = &act_ref_points[i];
        float arg, y, dx, one = 1.0f, dparam = -123.0f;
        const tmlp_act *a = parse_ok(p->spec, &arg);
        float param = a->param_init;
        const float *pp = a->params ? &param : NULL;
        a->forward(1, 1, &p->x, &y, arg, pp);
        a->backward(1, 1, &p->x, &y, &one, &dx, arg, pp, a->params ? &dparam : NULL);
        int ok = close_to(y, p->y) && close_to(dx, p->dydx) &&
                 (!a->params || close_to(dparam, p->dydp));
        if (!ok && bad++ < 20)
            fprintf(stderr, "%s at x = %.9g: f = %.9g (want %.9g), f' = %.9g (want %.9g), "
                    "df/dp = %.9g (want %.9g)\n", p->spec, (double)p->x, (double)y, (double)p->y,
                    (double)dx, (double)p->dydx, (double)dparam, (double)p->dydp);
    }
    ck_assert_msg(bad == 0, "%d of %d reference points differ by more than 1e-6 relative", bad, n);
    ck_assert_int_gt(n, 500);
}
END_TEST

START_TEST(act_rowwise_values_and_gradients_match_pytorch)
{
    int n = (int)(sizeof act_ref_rows / sizeof act_ref_rows[0]), bad = 0;
    for (int i = 0; i < n; i++) {
        const act_ref_row *r = &act_ref_rows[i];
        float arg, y[ACT_REF_MAX_COLS], dx[ACT_REF_MAX_COLS];
        const tmlp_act *a = parse_ok(r->spec, &arg);
        ck_assert(a->flags & TMLP_ACT_ROWWISE);
        a->forward(1, r->n, r->x, y, arg, NULL);
        a->backward(1, r->n, r->x, y, r->dy, dx, arg, NULL, NULL);
        for (int j = 0; j < r->n; j++)
            if ((!close_to(y[j], r->y[j]) || !close_to(dx[j], r->dx[j])) && bad++ < 20)
                fprintf(stderr, "%s row %d [%d]: y = %.9g (want %.9g), dx = %.9g (want %.9g)\n",
                        r->spec, i, j, (double)y[j], (double)r->y[j], (double)dx[j],
                        (double)r->dx[j]);
    }
    ck_assert_msg(bad == 0, "%d row-wise values differ by more than 1e-6 relative", bad);
}
END_TEST

/* Adding an activation without a golden reference fails here. */
START_TEST(act_every_builtin_has_a_reference)
{
    int n_pts = (int)(sizeof act_ref_points / sizeof act_ref_points[0]);
    int n_rows = (int)(sizeof act_ref_rows / sizeof act_ref_rows[0]);
    for (int i = 0; i < tmlp_act_count(); i++) {
        const tmlp_act *a = tmlp_act_at(i);
        if (is_user(a))
            continue;
        int found = 0;
        size_t len = strlen(a->name);
        for (int k = 0; k < n_pts && !found; k++)
            found = strncmp(act_ref_points[k].spec, a->name, len) == 0 &&
                    (act_ref_points[k].spec[len] == '\0' || act_ref_points[k].spec[len] == ':');
        for (int k = 0; k < n_rows && !found; k++)
            found = strcmp(act_ref_rows[k].spec, a->name) == 0;
        ck_assert_msg(found, "'%s' has no entry in tests/act_reference.h "
                      "(run scripts/gen_act_reference.py)", a->name);
    }
}
END_TEST

/* The same function, whether called on one element or on a whole block. */
START_TEST(act_block_call_equals_elementwise_calls)
{
    enum { R = 3, C = 7 };
    float x[R * C], y[R * C], dy[R * C], dx[R * C];
    for (int i = 0; i < R * C; i++) {
        x[i] = -7.5f + 0.73f * (float)i;
        dy[i] = 0.5f + 0.1f * (float)(i % 5);
    }
    for (int i = 0; i < tmlp_act_count(); i++) {
        const tmlp_act *a = tmlp_act_at(i);
        if (is_user(a) || (a->flags & TMLP_ACT_ROWWISE))
            continue;
        float param[C];
        for (int j = 0; j < C; j++)
            param[j] = a->param_init + 0.05f * (float)j;     /* a different slope per column */
        const float *pp = a->params ? param : NULL;
        a->forward(R, C, x, y, a->arg, pp);
        a->backward(R, C, x, y, dy, dx, a->arg, pp, NULL);
        for (int k = 0; k < R * C; k++) {
            float y1, dx1;
            const float *p1 = a->params == TMLP_ACT_PARAM_PER_UNIT ? &param[k % C] : pp;
            a->forward(1, 1, &x[k], &y1, a->arg, p1);
            a->backward(1, 1, &x[k], &y1, &dy[k], &dx1, a->arg, p1, NULL);
            ck_assert_msg(y1 == y[k] && dx1 == dx[k], "%s: element %d differs in a block", a->name, k);
        }
    }
}
END_TEST

/* ---- gradients --------------------------------------------------------------------------- */

static void gradcheck_ok(const tmlp_act *a, float arg, const char *label)
{
    tmlp_gradcheck_result r;
    tmlp_err err = { 0 };
    ck_assert_msg(tmlp_gradcheck_act(a, arg, 0.0f, 0.0, &r, &err) == TMLP_OK, "%s: %s", label,
                  err.msg);
    ck_assert_msg(r.n_failed == 0, "%s: %d of %d derivatives off (worst %.3g at x = %g)", label,
                  r.n_failed, r.n_checked, r.max_err, r.worst_x);
    ck_assert_int_ge(r.n_checked, 40);
    if (a->flags & TMLP_ACT_NOGRAD)
        ck_assert_msg(r.sum_abs_grad == 0.0, "%s: NOGRAD yet gradient %g", label, r.sum_abs_grad);
    else
        ck_assert_msg(r.sum_abs_grad > 1e-3, "%s: gradient all but zero (%g): a trivial pass",
                      label, r.sum_abs_grad);
}

START_TEST(act_every_activation_passes_gradcheck)
{
    for (int i = 0; i < tmlp_act_count(); i++) {
        const tmlp_act *a = tmlp_act_at(i);
        if (!is_user(a))
            gradcheck_ok(a, a->arg, a->name);
    }
    for (int i = 0; i < N_VARIANTS; i++) {
        float arg;
        const tmlp_act *a = parse_ok(variants[i], &arg);
        gradcheck_ok(a, arg, variants[i]);
    }
}
END_TEST

/* Σ dy ⊙ f(x; param) in double: the scalar whose parameter gradient backward reports. */
static double probe(const tmlp_act *a, int rows, int cols, const float *x, const float *dy,
                    const float *param)
{
    float y[64];
    a->forward(rows, cols, x, y, a->arg, param);
    double s = 0.0;
    for (int i = 0; i < rows * cols; i++)
        s += (double)dy[i] * y[i];
    return s;
}

/* dparam from backward against a central difference, for each parameter; also checks that
 * backward writes dparam (a second call into a dirty buffer gives the same numbers). */
static void check_param_grads(const char *name, float start)
{
    enum { R = 4, C = 5 };
    const tmlp_act *a = tmlp_act_find(name);
    ck_assert_ptr_nonnull(a);
    int np = tmlp_act_n_params(a, C);
    ck_assert_int_gt(np, 0);
    float x[R * C], y[R * C], dy[R * C], dx[R * C], param[C], dparam[C], again[C];
    for (int i = 0; i < R * C; i++) {
        x[i] = (i % 3 == 0 ? -1.0f : 1.0f) * (0.3f + 0.37f * (float)(i % 7));
        dy[i] = 0.4f + 0.15f * (float)((i * 7) % 5);
    }
    for (int k = 0; k < np; k++)
        param[k] = start + 0.1f * (float)k;
    a->forward(R, C, x, y, a->arg, param);
    a->backward(R, C, x, y, dy, dx, a->arg, param, dparam);
    for (int k = 0; k < np; k++)
        again[k] = 1e6f;
    a->backward(R, C, x, y, dy, dx, a->arg, param, again);
    for (int k = 0; k < np; k++) {
        ck_assert_msg(again[k] == dparam[k], "%s: backward accumulated into dparam", name);
        ck_assert_msg(fabsf(dparam[k]) > 1e-3f, "%s: dparam[%d] = %g, too small to test", name, k,
                      (double)dparam[k]);
        float keep = param[k], h = 1e-3f;
        param[k] = keep + h;
        double lp = probe(a, R, C, x, dy, param);
        param[k] = keep - h;
        double lm = probe(a, R, C, x, dy, param);
        param[k] = keep;
        double num = (lp - lm) / (2.0 * h);
        ck_assert_msg(fabs(num - dparam[k]) <= 2e-3 * fmax(1.0, fabs(num)),
                      "%s: dparam[%d] = %.7g, central difference %.7g", name, k,
                      (double)dparam[k], num);
    }
}

START_TEST(act_prelu_slope_gradients_are_right)
{
    check_param_grads("prelu", 0.25f);
    check_param_grads("prelu", -0.4f);
}
END_TEST

START_TEST(act_swish_learnable_beta_gradient_is_right)
{
    check_param_grads("swish_learnable", 1.0f);
    check_param_grads("swish_learnable", 0.3f);
    check_param_grads("swish_learnable", 2.5f);
}
END_TEST

START_TEST(act_backward_writes_dx_rather_than_accumulating)
{
    enum { N = 6 };
    const float x[N] = { -3.0f, -0.5f, 0.0f, 0.25f, 2.0f, 7.0f };
    const float dy[N] = { 1.0f, -2.0f, 0.5f, 1.5f, -1.0f, 0.75f };
    for (int i = 0; i < tmlp_act_count(); i++) {
        const tmlp_act *a = tmlp_act_at(i);
        if (is_user(a))
            continue;
        float y[N], clean[N], dirty[N], param[N], dparam[N];
        for (int k = 0; k < N; k++) {
            param[k] = a->param_init;
            clean[k] = 0.0f;
            dirty[k] = NAN;
        }
        const float *pp = a->params ? param : NULL;
        a->forward(1, N, x, y, a->arg, pp);
        a->backward(1, N, x, y, dy, clean, a->arg, pp, a->params ? dparam : NULL);
        a->backward(1, N, x, y, dy, dirty, a->arg, pp, a->params ? dparam : NULL);
        for (int k = 0; k < N; k++)
            ck_assert_msg(clean[k] == dirty[k], "%s: dx[%d] depends on dx's old contents",
                          a->name, k);
    }
}
END_TEST

/* ---- stability --------------------------------------------------------------------------- */

START_TEST(act_outputs_are_finite_for_every_finite_input)
{
    static const float xs[] = {
        -FLT_MAX, -1e30f, -1e10f, -1000.0f, -100.0f, -89.0f, -88.7f, -50.0f, -20.0f, -1.0f,
        -1e-3f, -FLT_MIN, -1e-45f, -0.0f, 0.0f, 1e-45f, FLT_MIN, 1e-3f, 1.0f, 20.0f, 50.0f,
        88.7f, 89.0f, 100.0f, 1000.0f, 1e10f, 1e30f, FLT_MAX,
    };
    enum { N = sizeof xs / sizeof xs[0] };
    float y[N], dy[N], dx[N], param[N], dparam[N];
    for (int k = 0; k < N; k++)
        dy[k] = 1.0f;
    int n_specs = tmlp_act_count() + N_VARIANTS;
    for (int s = 0; s < n_specs; s++) {
        const tmlp_act *a;
        float arg;
        const char *label;
        if (s < tmlp_act_count()) {
            a = tmlp_act_at(s);
            arg = a->arg;
            label = a->name;
        } else {
            label = variants[s - tmlp_act_count()];
            a = parse_ok(label, &arg);
        }
        if (is_user(a))
            continue;
        for (int k = 0; k < N; k++)
            param[k] = a->param_init;
        const float *pp = a->params ? param : NULL;
        /* every point as its own row (rows of one for row-wise functions), then all as one row */
        for (int pass = 0; pass < 2; pass++) {
            int rows = pass ? 1 : N, cols = pass ? N : 1;
            if (pass && !(a->flags & TMLP_ACT_ROWWISE))
                continue;
            a->forward(rows, cols, xs, y, arg, pp);
            a->backward(rows, cols, xs, y, dy, dx, arg, pp, a->params ? dparam : NULL);
            for (int k = 0; k < N; k++)
                ck_assert_msg(isfinite(y[k]) && isfinite(dx[k]),
                              "%s at x = %g: f = %g, f' = %g", label, (double)xs[k], (double)y[k],
                              (double)dx[k]);
            for (int k = 0; k < tmlp_act_n_params(a, cols); k++)
                ck_assert_msg(isfinite(dparam[k]), "%s: dparam[%d] = %g", label, k,
                              (double)dparam[k]);
        }
    }
}
END_TEST

/* ---- the registry ------------------------------------------------------------------------ */

START_TEST(act_registry_finds_every_builtin)
{
    ck_assert_int_ge(tmlp_act_count(), N_BUILTIN);
    for (int i = 0; i < N_BUILTIN; i++) {
        const tmlp_act *a = tmlp_act_find(builtin_names[i]);
        ck_assert_msg(a != NULL, "'%s' not found", builtin_names[i]);
        ck_assert_str_eq(a->name, builtin_names[i]);
        ck_assert(tmlp_act_is_builtin(a));
        ck_assert_ptr_null(tmlp_act_origin(a));
        int listed = 0; /* exactly once in the listing, wherever */
        for (int j = 0; j < tmlp_act_count(); j++)
            listed += tmlp_act_at(j) == a;
        ck_assert_int_eq(listed, 1);
    }
    /* The listing holds the built-ins first, then the registered ones; no built-in this test
     * does not know. */
    int n_builtin = 0;
    for (int j = 0; j < tmlp_act_count(); j++) {
        const tmlp_act *a = tmlp_act_at(j);
        ck_assert_ptr_nonnull(a);
        if (tmlp_act_is_builtin(a)) {
            ck_assert_int_eq(j, n_builtin++);
            ck_assert_msg(!is_user(a), "%s", a->name);
        } else {
            ck_assert_msg(is_user(a), "a built-in activation this test does not know: '%s' "
                          "(add it to builtin_names)", a->name);
        }
    }
    ck_assert_int_eq(n_builtin, N_BUILTIN);
    ck_assert_ptr_null(tmlp_act_find("nope"));
    ck_assert_ptr_null(tmlp_act_find("relu:0.1"));
    ck_assert_ptr_null(tmlp_act_find("RELU"));
    ck_assert_ptr_null(tmlp_act_find(""));
    ck_assert_ptr_null(tmlp_act_find(NULL));
    ck_assert_ptr_null(tmlp_act_at(-1));
    ck_assert_ptr_null(tmlp_act_at(tmlp_act_count()));
}
END_TEST

/* What each built-in declares: flags, preferred initializer, parameters, default argument. */
START_TEST(act_builtins_declare_flags_init_and_params)
{
    static const struct {
        const char *name;
        unsigned flags;
        int init, params;
        float param_init, arg;
    } want[] = {
        { "binary_step", TMLP_ACT_NOGRAD, TMLP_INIT_GLOROT_UNIFORM, 0, 0, 0 },
        { "sigmoid", TMLP_ACT_SATURATES, TMLP_INIT_GLOROT_UNIFORM, 0, 0, 0 },
        { "hard_sigmoid", TMLP_ACT_SATURATES, TMLP_INIT_GLOROT_UNIFORM, 0, 0, 0 },
        { "tanh", TMLP_ACT_SATURATES, TMLP_INIT_GLOROT_UNIFORM, 0, 0, 0 },
        { "hardtanh", TMLP_ACT_SATURATES, TMLP_INIT_GLOROT_UNIFORM, 0, 0, 0 },
        { "softsign", TMLP_ACT_SATURATES, TMLP_INIT_GLOROT_UNIFORM, 0, 0, 0 },
        { "relu", TMLP_ACT_CAN_DIE, TMLP_INIT_HE_UNIFORM, 0, 0, 0 },
        { "relu6", TMLP_ACT_CAN_DIE | TMLP_ACT_SATURATES, TMLP_INIT_HE_UNIFORM, 0, 0, 0 },
        { "leaky_relu", TMLP_ACT_HAS_ARG, TMLP_INIT_HE_UNIFORM, 0, 0, 0.01f },
        { "prelu", 0, TMLP_INIT_HE_UNIFORM, TMLP_ACT_PARAM_PER_UNIT, 0.25f, 0 },
        { "elu", TMLP_ACT_HAS_ARG, TMLP_INIT_GLOROT_UNIFORM, 0, 0, 1.0f },
        { "selu", 0, TMLP_INIT_LECUN_NORMAL, 0, 0, 0 },
        { "celu", TMLP_ACT_HAS_ARG | TMLP_ACT_ARG_POSITIVE, TMLP_INIT_GLOROT_UNIFORM, 0, 0, 1.0f },
        { "softplus", TMLP_ACT_HAS_ARG | TMLP_ACT_ARG_POSITIVE, TMLP_INIT_GLOROT_UNIFORM, 0, 0, 1.0f },
        { "swish", TMLP_ACT_HAS_ARG, TMLP_INIT_GLOROT_UNIFORM, 0, 0, 1.0f },
        { "swish_learnable", 0, TMLP_INIT_GLOROT_UNIFORM, TMLP_ACT_PARAM_SHARED, 1.0f, 0 },
        { "softmax", TMLP_ACT_ROWWISE | TMLP_ACT_SATURATES, TMLP_INIT_GLOROT_UNIFORM, 0, 0, 0 },
        { "log_softmax", TMLP_ACT_ROWWISE, TMLP_INIT_GLOROT_UNIFORM, 0, 0, 0 },
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        const tmlp_act *a = tmlp_act_find(want[i].name);
        ck_assert_ptr_nonnull(a);
        ck_assert_msg(a->flags == want[i].flags, "%s: flags %#x, want %#x", a->name, a->flags,
                      want[i].flags);
        ck_assert_msg(a->init == want[i].init, "%s: init %d", a->name, a->init);
        ck_assert_int_eq(a->params, want[i].params);
        ck_assert(a->param_init == want[i].param_init);
        if (a->flags & TMLP_ACT_HAS_ARG)
            ck_assert(a->arg == want[i].arg);
    }
    for (int i = 0; i < N_BUILTIN; i++) { /* and every one has its one-liners and sane kinks */
        const tmlp_act *a = tmlp_act_find(builtin_names[i]);
        ck_assert_msg(a->formula && *a->formula && a->range && *a->range, "%s: formula/range",
                      a->name);
        ck_assert(a->init > TMLP_INIT_AUTO && a->init < TMLP_INIT_COUNT);
        ck_assert(a->n_kinks >= 0 && a->n_kinks <= TMLP_ACT_MAX_KINKS);
        for (int k = 1; k < a->n_kinks; k++)
            ck_assert(a->kinks[k - 1] < a->kinks[k]);
        if (!(a->flags & TMLP_ACT_HAS_ARG))
            ck_assert(!(a->flags & TMLP_ACT_ARG_POSITIVE));
    }
    ck_assert_int_eq(tmlp_act_n_params(tmlp_act_find("prelu"), 17), 17);
    ck_assert_int_eq(tmlp_act_n_params(tmlp_act_find("swish_learnable"), 17), 1);
    ck_assert_int_eq(tmlp_act_n_params(tmlp_act_find("relu"), 17), 0);
    ck_assert_int_eq(tmlp_act_n_params(NULL, 17), 0);
}
END_TEST

START_TEST(act_parse_reads_names_and_arguments)
{
    float arg = -1.0f;
    ck_assert_ptr_eq(parse_ok("leaky_relu:0.1", &arg), tmlp_act_find("leaky_relu"));
    ck_assert(arg == 0.1f);
    parse_ok("leaky_relu", &arg);
    ck_assert(arg == 0.01f);
    parse_ok("softplus:2", &arg);
    ck_assert(arg == 2.0f);
    parse_ok("swish:1.5", &arg);
    ck_assert(arg == 1.5f);
    parse_ok("elu:-0.5", &arg);       /* elu's alpha may be negative, as in PyTorch */
    ck_assert(arg == -0.5f);
    parse_ok("celu:1e-3", &arg);
    ck_assert(arg == 1e-3f);
    ck_assert_ptr_eq(parse_ok("gelu_tanh", NULL), tmlp_act_find("gelu_tanh"));
}
END_TEST

START_TEST(act_parse_rejects_bad_arguments)
{
    static const char *const bad[] = {
        "leaky_relu:", "leaky_relu:abc", "leaky_relu:0.1x", "leaky_relu: 0.1x", "leaky_relu:nan",
        "leaky_relu:inf", "leaky_relu:1e999", "leaky_relu:0.1:2", "relu:0.5", "gelu:1",
        "prelu:0.3", "softplus:0", "softplus:-1", "celu:0", "celu:-0.5",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const tmlp_act *a = (const tmlp_act *)1;
        tmlp_err err = { 0 };
        int rc = tmlp_act_parse(bad[i], &a, NULL, &err);
        ck_assert_msg(rc == TMLP_EINVAL, "'%s' gave %d", bad[i], rc);
        ck_assert_int_eq(err.code, TMLP_EINVAL);
        ck_assert_msg(strstr(err.msg, "activation '") != NULL, "'%s': %s", bad[i], err.msg);
        ck_assert_ptr_eq(a, (const tmlp_act *)1);     /* untouched on failure */
    }
    tmlp_err err = { 0 };
    const tmlp_act *a;
    ck_assert_int_eq(tmlp_act_parse("", &a, NULL, &err), TMLP_EINVAL);
    ck_assert_int_eq(tmlp_act_parse(NULL, &a, NULL, &err), TMLP_EINVAL);
    ck_assert_int_eq(tmlp_act_parse("leaky_relu:abc", &a, NULL, NULL), TMLP_EINVAL); /* err optional */
}
END_TEST

START_TEST(act_unknown_name_suggests_the_nearest)
{
    tmlp_err err = { 0 };
    const tmlp_act *a;
    char want[64];
    snprintf(want, sizeof want, "`tinymlp act --list` lists all %d)", tmlp_act_count());
    ck_assert_int_eq(tmlp_act_parse("sinusoid", &a, NULL, &err), TMLP_ENOTFOUND);
    ck_assert_msg(strstr(err.msg, "unknown activation 'sinusoid' (did you mean 'sigmoid'? ") &&
                  strstr(err.msg, want), "%s", err.msg);
    ck_assert_int_eq(tmlp_act_parse("sigmoidd:0.5", &a, NULL, &err), TMLP_ENOTFOUND);
    ck_assert_msg(strstr(err.msg, "'sigmoidd' (did you mean 'sigmoid'?") != NULL, "%s", err.msg);
    ck_assert_int_eq(tmlp_act_parse("qqqqqq", &a, NULL, &err), TMLP_ENOTFOUND);
    ck_assert_msg(!strstr(err.msg, "did you mean") && strstr(err.msg, want), "%s", err.msg);
    /* a very long name is cut short and the message still ends whole */
    char longname[300];
    memset(longname, 'x', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    ck_assert_int_eq(tmlp_act_parse(longname, &a, NULL, &err), TMLP_ENOTFOUND);
    size_t n = strlen(err.msg);
    ck_assert_msg(n < sizeof err.msg - 1 && strstr(err.msg, want), "%s", err.msg);
    /* inside a layer list, with a long item, the end survives too */
    tmlp_net_spec spec;
    tmlp_net_spec_init(&spec, 2, TMLP_LOSS_MSE);
    ck_assert_int_eq(tmlp_net_spec_parse(&spec, "4:sinusoid", &err), TMLP_ENOTFOUND);
    ck_assert_msg(strstr(err.msg, "layer 1 \"4:sinusoid\": unknown activation 'sinusoid' "
                                  "(did you mean 'sigmoid'?") && strstr(err.msg, want), "%s", err.msg);
    tmlp_net_spec_init(&spec, 2, TMLP_LOSS_MSE);
    ck_assert_int_eq(tmlp_net_spec_parse(&spec, "12345678:sinusoidsinusoidsinusoidsinusoid"
                                         "sinusoidsinusoidsinusoid:drop0.5:l2=0.000001:l1=0.000001:bn",
                                         &err), TMLP_ENOTFOUND);
    ck_assert_msg(strstr(err.msg, want), "%s", err.msg);
}
END_TEST

START_TEST(act_suggest_finds_the_nearest_name)
{
    static const struct { const char *typed, *want; } near[] = {
        { "sinusoid", "sigmoid" }, { "rleu", "relu" }, { "ReLU", "relu" }, { "tan", "tanh" },
        { "swoosh", "swish" }, { "gelu_tan", "gelu_tanh" }, { "leakyrelu", "leaky_relu" },
        { "softmx", "softmax" },
    };
    for (size_t i = 0; i < sizeof near / sizeof near[0]; i++) {
        const tmlp_act *a = tmlp_act_suggest(near[i].typed);
        ck_assert_msg(a && !strcmp(a->name, near[i].want), "%s -> %s, want %s", near[i].typed,
                      a ? a->name : "NULL", near[i].want);
    }
    ck_assert_ptr_null(tmlp_act_suggest("qqqqqq"));
    ck_assert_ptr_null(tmlp_act_suggest(""));
    ck_assert_ptr_null(tmlp_act_suggest(NULL));
    char longname[100];
    memset(longname, 'r', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    ck_assert_ptr_null(tmlp_act_suggest(longname));
    /* "linear" is identity's other name */
    const tmlp_act *a = NULL;
    ck_assert_int_eq(tmlp_act_parse("linear", &a, NULL, NULL), TMLP_OK);
    ck_assert_str_eq(a->name, "identity");
}
END_TEST

/* bent identity: (sqrt(x^2 + 1) - 1) / 2 + x, for the user-activation tests */
static void bent_forward(int rows, int cols, const float *x, float *y, float arg,
                         const float *param)
{
    (void)arg; (void)param;
    for (int i = 0; i < rows * cols; i++)
        y[i] = (sqrtf(x[i] * x[i] + 1.0f) - 1.0f) / 2.0f + x[i];
}

static void bent_backward(int rows, int cols, const float *x, const float *y, const float *dy,
                          float *dx, float arg, const float *param, float *dparam)
{
    (void)y; (void)arg; (void)param; (void)dparam;
    for (int i = 0; i < rows * cols; i++)
        dx[i] = dy[i] * (x[i] / (2.0f * sqrtf(x[i] * x[i] + 1.0f)) + 1.0f);
}

START_TEST(act_register_makes_a_user_activation_findable)
{
    static const tmlp_act bent = { .name = "user_bent", .formula = "(sqrt(x^2+1)-1)/2 + x",
                                   .range = "(-inf, inf)", .forward = bent_forward,
                                   .backward = bent_backward };
    static const tmlp_act bent_again = { .name = "user_bent", .forward = bent_forward,
                                         .backward = bent_backward };
    static const tmlp_act shadow = { .name = "relu", .forward = bent_forward,
                                     .backward = bent_backward };
    int n = tmlp_act_count();
    tmlp_err err = { 0 };
    ck_assert_ptr_null(tmlp_act_find("user_bent"));
    ck_assert_int_eq(tmlp_act_register(&bent, &err), TMLP_OK);
    ck_assert_int_eq(tmlp_act_count(), n + 1);
    ck_assert_ptr_eq(tmlp_act_find("user_bent"), &bent);
    ck_assert_ptr_eq(tmlp_act_at(n), &bent);
    ck_assert_ptr_eq(parse_ok("user_bent", NULL), &bent);
    tmlp_gradcheck_result r;
    ck_assert_int_eq(tmlp_gradcheck_act(&bent, 0.0f, 0.0f, 0.0, &r, &err), TMLP_OK);
    ck_assert_int_eq(r.n_failed, 0);

    /* duplicates and built-in names are refused; the table is unchanged */
    ck_assert_int_eq(tmlp_act_register(&bent, &err), TMLP_EINVAL);
    ck_assert_msg(strstr(err.msg, "already") != NULL, "%s", err.msg);
    ck_assert_int_eq(tmlp_act_register(&bent_again, &err), TMLP_EINVAL);
    ck_assert_int_eq(tmlp_act_register(&shadow, &err), TMLP_EINVAL);
    ck_assert_msg(strstr(err.msg, "'relu' is a built-in activation") != NULL, "%s", err.msg);
    ck_assert(tmlp_act_is_builtin(tmlp_act_find("relu")));
    ck_assert_ptr_ne(tmlp_act_find("relu"), &shadow);
    ck_assert_int_eq(tmlp_act_count(), n + 1);

    /* malformed definitions */
    static const tmlp_act upper = { .name = "User_x", .forward = bent_forward, .backward = bent_backward };
    static const tmlp_act colon = { .name = "user_x:1", .forward = bent_forward, .backward = bent_backward };
    static const tmlp_act empty = { .name = "", .forward = bent_forward, .backward = bent_backward };
    static const tmlp_act noname = { .forward = bent_forward, .backward = bent_backward };
    static const tmlp_act nofwd = { .name = "user_nofwd", .backward = bent_backward };
    static const tmlp_act kinks = { .name = "user_kinks", .n_kinks = 5, .forward = bent_forward,
                                    .backward = bent_backward };
    const tmlp_act *bad[] = { &upper, &colon, &empty, &noname, &nofwd, &kinks, NULL };
    for (int i = 0; i < 7; i++)
        ck_assert_msg(tmlp_act_register(bad[i], &err) == TMLP_EINVAL, "bad definition %d accepted", i);
    ck_assert_int_eq(tmlp_act_count(), n + 1);
}
END_TEST

/* A plugin's activation is registered with its file name; a model records both. */
START_TEST(act_register_from_keeps_the_origin)
{
    static const tmlp_act mine = { .name = "user_from_plugin", .forward = bent_forward,
                                   .backward = bent_backward };
    static const tmlp_act other = { .name = "user_from_plugin", .forward = bent_forward,
                                    .backward = bent_backward };
    static const tmlp_act plain = { .name = "user_no_origin", .forward = bent_forward,
                                    .backward = bent_backward };
    tmlp_err err = { 0 };
    const char *bad[] = { "", "a/b.so", "a=b.so", "a,b.so", "a\nb.so",
                          "0123456789012345678901234567890123456789012345678901234567890123.so" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_int_eq(tmlp_act_register_from(&mine, bad[i], &err), TMLP_EINVAL);
    ck_assert_ptr_null(tmlp_act_find("user_from_plugin"));
    ck_assert_int_eq(tmlp_act_register_from(&mine, "mine.so", &err), TMLP_OK);
    ck_assert_str_eq(tmlp_act_origin(&mine), "mine.so");
    ck_assert(!tmlp_act_is_builtin(&mine));
    ck_assert_int_eq(tmlp_act_register_from(&other, "other.so", &err), TMLP_EINVAL);
    ck_assert_msg(strstr(err.msg, "already registered by mine.so") != NULL, "%s", err.msg);
    ck_assert_int_eq(tmlp_act_register(&plain, &err), TMLP_OK);
    ck_assert_ptr_null(tmlp_act_origin(&plain));
    ck_assert_ptr_null(tmlp_act_origin(NULL));
    ck_assert(!tmlp_act_is_builtin(NULL));
}
END_TEST

/* A user's activation trains without registration: the net only needs the pointer. */
START_TEST(act_user_activation_works_in_a_net_unregistered)
{
    static const tmlp_act bent = { .name = "user_bent_unreg", .forward = bent_forward,
                                   .backward = bent_backward };
    tmlp_err err = { 0 };
    tmlp_net_spec spec;
    tmlp_net_spec_init(&spec, 2, TMLP_LOSS_SIGMOID_BCE);
    ck_assert_int_eq(tmlp_net_spec_add(&spec, 3, &bent, 0.0f, &err), TMLP_OK);
    ck_assert_int_eq(tmlp_net_spec_add(&spec, 1, NULL, 0.0f, &err), TMLP_OK);
    tmlp_net *net = tmlp_net_new(&spec, 4, &err);
    ck_assert_msg(net != NULL, "%s", err.msg);
    tmlp_rng rng;
    tmlp_rng_seed(&rng, 3, 1);
    ck_assert_int_eq(tmlp_net_init(net, &rng, &err), TMLP_OK);
    const float x[2] = { 0.5f, -1.0f };
    ck_assert_ptr_nonnull(tmlp_net_forward(net, x, 1, &err));
    tmlp_layer_view v;
    ck_assert_int_eq(tmlp_net_layer(net, 0, &v, &err), TMLP_OK);
    ck_assert_ptr_eq(v.act, &bent);
    for (int j = 0; j < 3; j++)
        ck_assert_float_eq(v.a[j], (sqrtf(v.z[j] * v.z[j] + 1.0f) - 1.0f) / 2.0f + v.z[j]);
    ck_assert_ptr_null(tmlp_act_find("user_bent_unreg"));
    tmlp_net_free(net);
}
END_TEST

START_TEST(act_format_round_trips_through_parse)
{
    char buf[64];
    ck_assert_int_eq(tmlp_act_format(tmlp_act_find("relu"), 0.0f, buf, sizeof buf), 4);
    ck_assert_str_eq(buf, "relu");
    tmlp_act_format(tmlp_act_find("leaky_relu"), 0.1f, buf, sizeof buf);
    ck_assert_str_eq(buf, "leaky_relu:0.1");
    tmlp_act_format(tmlp_act_find("swish"), 1.5f, buf, sizeof buf);
    ck_assert_str_eq(buf, "swish:1.5");
    tmlp_act_format(tmlp_act_find("leaky_relu"), 1.0f / 3.0f, buf, sizeof buf);
    ck_assert_str_eq(buf, "leaky_relu:0.333333343");
    char small[6];
    ck_assert_int_eq(tmlp_act_format(tmlp_act_find("leaky_relu"), 0.1f, small, sizeof small), 14);
    ck_assert_str_eq(small, "leaky");

    static const float args[] = { 0.01f, 0.1f, 1.0f / 3.0f, 1e-7f, 2.5f, 123456.789f, 1e30f,
                                  FLT_MIN, FLT_MAX, -2.5f, -1e-3f };
    for (int i = 0; i < N_BUILTIN; i++) {
        const tmlp_act *a = tmlp_act_find(builtin_names[i]);
        int n_args = a->flags & TMLP_ACT_HAS_ARG ? (int)(sizeof args / sizeof args[0]) : 1;
        for (int k = 0; k < n_args; k++) {
            float arg = a->flags & TMLP_ACT_HAS_ARG ? args[k] : 0.0f, back = -7.0f;
            if ((a->flags & TMLP_ACT_ARG_POSITIVE) && !(arg > 0.0f))
                continue;
            int len = tmlp_act_format(a, arg, buf, sizeof buf);
            ck_assert_int_eq(len, (int)strlen(buf));
            ck_assert_ptr_eq(parse_ok(buf, &back), a);
            if (a->flags & TMLP_ACT_HAS_ARG)
                ck_assert_msg(back == arg, "%s: %.9g came back as %.9g", buf, (double)arg,
                              (double)back);
        }
    }
}
END_TEST

/* ---- training ---------------------------------------------------------------------------- */

/* A 2-units-1 XOR net with act in the hidden layer, initialised from seed. */
static tmlp_net *xor_net(const char *act, int units, uint64_t seed)
{
    tmlp_err err = { 0 };
    tmlp_net_spec spec;
    char layers[64];
    snprintf(layers, sizeof layers, "%d:%s,1", units, act);
    tmlp_net_spec_init(&spec, 2, TMLP_LOSS_SIGMOID_BCE);
    ck_assert_msg(tmlp_net_spec_parse(&spec, layers, &err) == TMLP_OK, "%s", err.msg);
    tmlp_net *net = tmlp_net_new(&spec, 4, &err);
    ck_assert_msg(net != NULL, "%s", err.msg);
    tmlp_rng rng;
    tmlp_rng_seed(&rng, seed, 1);
    ck_assert_int_eq(tmlp_net_init(net, &rng, &err), TMLP_OK);
    return net;
}

START_TEST(act_training_through_binary_step_is_refused)
{
    tmlp_err err = { 0 };
    tmlp_data *xor = tmlp_data_xor(&err);
    ck_assert_ptr_nonnull(xor);
    tmlp_net *net = xor_net("binary_step", 4, 1);
    tmlp_optim_cfg oc = tmlp_optim_defaults(TMLP_OPT_ADAM);
    size_t np;
    tmlp_net_params(net, &np);
    tmlp_optim *opt = tmlp_optim_new(&oc, np, &err);
    ck_assert_ptr_nonnull(opt);
    tmlp_train_cfg tc = tmlp_train_defaults();
    tc.batch = 4;
    ck_assert_int_eq(tmlp_train(net, opt, xor, NULL, &tc, NULL, &err), TMLP_ESTATE);
    ck_assert_int_eq(err.code, TMLP_ESTATE);
    ck_assert_msg(strstr(err.msg, "binary_step") && strstr(err.msg, "derivative") &&
                  strstr(err.msg, "layer 1"), "unclear message: %s", err.msg);
    /* but it still runs forward: a step network is a valid thing to evaluate */
    ck_assert_ptr_nonnull(tmlp_net_forward(net, xor->x, 4, &err));
    tmlp_optim_free(opt);
    tmlp_net_free(net);
    tmlp_data_free(xor);
}
END_TEST

/* Every optimizer moves the learnable activation parameters, and they stay finite. */
static void params_train_with_every_optimizer(const char *act, float init)
{
    tmlp_err err = { 0 };
    tmlp_data *xor = tmlp_data_xor(&err);
    ck_assert_ptr_nonnull(xor);
    for (int kind = 0; kind < TMLP_OPT_COUNT; kind++) {
        tmlp_net *net = xor_net(act, 6, 7);
        tmlp_layer_view v;
        ck_assert_int_eq(tmlp_net_layer(net, 0, &v, &err), TMLP_OK);
        ck_assert_int_eq(v.n_act_params, strcmp(act, "prelu") == 0 ? 6 : 1);
        for (int k = 0; k < v.n_act_params; k++)
            ck_assert(v.act_param[k] == init);
        tmlp_optim_cfg oc = tmlp_optim_defaults(kind);
        oc.lr = 0.05f;
        oc.weight_decay = 0.0f;
        size_t np;
        tmlp_net_params(net, &np);
        tmlp_optim *opt = tmlp_optim_new(&oc, np, &err);
        ck_assert_ptr_nonnull(opt);
        tmlp_train_cfg tc = tmlp_train_defaults();
        tc.batch = 4;
        tc.epochs = 20;
        ck_assert_msg(tmlp_train(net, opt, xor, NULL, &tc, NULL, &err) == TMLP_OK, "%s", err.msg);
        int moved = 0;
        for (int k = 0; k < v.n_act_params; k++) {
            ck_assert(isfinite(v.act_param[k]));
            moved += v.act_param[k] != init;
        }
        ck_assert_msg(moved > 0, "%s with %s: no activation parameter moved", act,
                      tmlp_optim_name(kind));
        tmlp_optim_free(opt);
        tmlp_net_free(net);
    }
    tmlp_data_free(xor);
}

START_TEST(act_prelu_slopes_train_with_every_optimizer)
{
    params_train_with_every_optimizer("prelu", 0.25f);
}
END_TEST

START_TEST(act_swish_beta_trains_with_every_optimizer)
{
    params_train_with_every_optimizer("swish_learnable", 1.0f);
}
END_TEST

/* ---- docs -------------------------------------------------------------------------------- */

/* docs/activations.md has a heading ("#..." then the name, optionally in backticks, then the
 * end of the line or a space) for every built-in activation. Tests run from the repo root. */
START_TEST(act_docs_have_a_section_for_every_builtin)
{
    FILE *f = fopen("docs/activations.md", "r");
    ck_assert_msg(f != NULL, "cannot open docs/activations.md (run the tests from the repo root)");
    int found[64] = { 0 };
    char line[512];
    while (fgets(line, sizeof line, f)) {
        if (line[0] != '#')
            continue;
        const char *p = line;
        while (*p == '#' || *p == ' ' || *p == '`')
            p++;
        for (int i = 0; i < tmlp_act_count() && i < 64; i++) {
            const char *name = tmlp_act_at(i)->name;
            size_t len = strlen(name);
            if (strncmp(p, name, len) == 0 && strchr("` \r\n", p[len]) && p[len] != '\0')
                found[i] = 1;
        }
    }
    fclose(f);
    char missing[512] = "";
    for (int i = 0; i < tmlp_act_count() && i < 64; i++)
        if (!found[i] && !is_user(tmlp_act_at(i)))
            snprintf(missing + strlen(missing), sizeof missing - strlen(missing), " %s",
                     tmlp_act_at(i)->name);
    ck_assert_msg(missing[0] == '\0', "docs/activations.md has no section for:%s", missing);
}
END_TEST

/* The branch-free exp inside sigmoid, tanh and the gates: within a few ulp of double against
 * libm over its whole range, clamped beyond it, NaN kept. */
START_TEST(act_exp_matches_libm_and_clamps)
{
    double worst = 0.0;
    for (double z = -700.0; z <= 700.0; z += 0.00731) {
        double got = tmlp_act_exp(z), want = exp(z), rel = fabs(got - want) / want;
        worst = rel > worst ? rel : worst;
    }
    ck_assert_msg(worst < 1e-15, "max relative error %g", worst);
    ck_assert(tmlp_act_exp(0.0) == 1.0);
    ck_assert(isnan(tmlp_act_exp(NAN)));
    ck_assert(tmlp_act_exp(-INFINITY) == tmlp_act_exp(-700.0) && tmlp_act_exp(-1e300) > 0.0);
    ck_assert(tmlp_act_exp(INFINITY) == tmlp_act_exp(700.0) && isfinite(tmlp_act_exp(1e300)));
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("act");
    TMLP_ADD(s, act_values_and_derivatives_match_pytorch);
    TMLP_ADD(s, act_rowwise_values_and_gradients_match_pytorch);
    TMLP_ADD(s, act_every_builtin_has_a_reference);
    TMLP_ADD(s, act_block_call_equals_elementwise_calls);
    TMLP_ADD(s, act_every_activation_passes_gradcheck);
    TMLP_ADD(s, act_prelu_slope_gradients_are_right);
    TMLP_ADD(s, act_swish_learnable_beta_gradient_is_right);
    TMLP_ADD(s, act_backward_writes_dx_rather_than_accumulating);
    TMLP_ADD(s, act_outputs_are_finite_for_every_finite_input);
    TMLP_ADD(s, act_registry_finds_every_builtin);
    TMLP_ADD(s, act_register_from_keeps_the_origin);
    TMLP_ADD(s, act_builtins_declare_flags_init_and_params);
    TMLP_ADD(s, act_parse_reads_names_and_arguments);
    TMLP_ADD(s, act_parse_rejects_bad_arguments);
    TMLP_ADD(s, act_unknown_name_suggests_the_nearest);
    TMLP_ADD(s, act_suggest_finds_the_nearest_name);
    TMLP_ADD(s, act_register_makes_a_user_activation_findable);
    TMLP_ADD(s, act_user_activation_works_in_a_net_unregistered);
    TMLP_ADD(s, act_format_round_trips_through_parse);
    TMLP_ADD(s, act_training_through_binary_step_is_refused);
    TMLP_ADD(s, act_prelu_slopes_train_with_every_optimizer);
    TMLP_ADD(s, act_swish_beta_trains_with_every_optimizer);
    TMLP_ADD(s, act_docs_have_a_section_for_every_builtin);
    TMLP_ADD(s, act_exp_matches_libm_and_clamps);
    return s;
}

TMLP_TEST_MAIN()
