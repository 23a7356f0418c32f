/* optim.c: SGD, momentum, Nesterov, Adam and AdamW as single loops over a flat block.
 * Update rules are written out in tinymlp/optim.h and match torch.optim. */
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tinymlp/optim.h"
#include "hot.h"
#include "team_impl.h"

/* Subnormal numbers (below FLT_MIN, 1.2e-38) are flushed to zero while an update runs, on
 * x86 through MXCSR's flush-to-zero and denormals-are-zero bits, which the thread running a
 * chunk sets and then restores. A moment whose gradient stays 0 (the weights of a pixel that
 * is blank in every image of the batch) decays geometrically through the subnormal range, and
 * this CPU's arithmetic on subnormals is slow: with 5-6% of Adam's first moments subnormal,
 * MNIST's 784-128-64-10 net spent 61-73 us per update instead of 33 us (docs/performance.md).
 * With eps well above sqrt(FLT_MIN) (about 1e-19; the default is 1e-8) a flushed value
 * changes the step by far less than a weight's last bit (see tinymlp/optim.h for a tiny eps). Every vector width uses the same MXCSR,
 * so the choice of clone (hot.h) still changes nothing. */
#if defined(__x86_64__) || defined(_M_X64) || (defined(__i386__) && defined(__SSE_MATH__))
#include <xmmintrin.h>
#define FLUSH_SUBNORMALS 0x8040u /* FTZ (bit 15) | DAZ (bit 6) */
typedef unsigned fp_mode;
static fp_mode flush_begin(void)
{
    fp_mode old = _mm_getcsr();
    _mm_setcsr(old | FLUSH_SUBNORMALS);
    return old;
}
/* Only the two mode bits go back: exception flags the update raised stay visible. */
static void flush_end(fp_mode old)
{
    _mm_setcsr((_mm_getcsr() & ~FLUSH_SUBNORMALS) | (old & FLUSH_SUBNORMALS));
}
#else
typedef int fp_mode;
static fp_mode flush_begin(void) { return 0; }
static void flush_end(fp_mode old) { (void)old; }
#endif

struct tmlp_optim {
    tmlp_optim_cfg cfg;
    size_t n;
    long t;   /* steps taken */
    float *m; /* (n) velocity (sgd family) or first moment (adam family); NULL for plain sgd */
    float *v; /* (n) second moment (adam family) or NULL */
    tmlp_team *team; /* borrowed: threads sharing the update, or NULL for the caller's alone */
};

static const char *const names[TMLP_OPT_COUNT] = { "sgd", "momentum", "nesterov", "adam", "adamw",
                                                   "rmsprop", "adagrad" };

const char *tmlp_optim_name(int kind)
{
    return kind >= 0 && kind < TMLP_OPT_COUNT ? names[kind] : NULL;
}

int tmlp_optim_find(const char *name, int *kind, tmlp_err *err)
{
    for (int k = 0; k < TMLP_OPT_COUNT; k++)
        if (name && strcmp(name, names[k]) == 0) {
            *kind = k;
            return TMLP_OK;
        }
    return tmlp_fail(err, TMLP_ENOTFOUND,
                     "unknown optimizer '%.40s%s' (known: sgd, momentum, nesterov, adam, adamw, "
                     "rmsprop, adagrad)",
                     name ? name : "(null)", name && strlen(name) > 40 ? "..." : "");
}

tmlp_optim_cfg tmlp_optim_defaults(int kind)
{
    int adam = kind == TMLP_OPT_ADAM || kind == TMLP_OPT_ADAMW;
    tmlp_optim_cfg c = {
        .kind = kind,
        .lr = adam ? 1e-3f : 1e-2f,
        .momentum = 0.9f,
        .beta1 = 0.9f,
        .beta2 = kind == TMLP_OPT_RMSPROP ? 0.99f : 0.999f,
        .eps = kind == TMLP_OPT_ADAGRAD ? 1e-10f : 1e-8f,
        .weight_decay = kind == TMLP_OPT_ADAMW ? 1e-2f : 0.0f,
    };
    return c;
}

static int in_unit(float x) { return x >= 0.0f && x < 1.0f; }

tmlp_optim *tmlp_optim_new(const tmlp_optim_cfg *cfg, size_t n, tmlp_err *err)
{
    const char *name = tmlp_optim_name(cfg->kind);
    if (!name) {
        tmlp_fail(err, TMLP_EINVAL, "optimizer: unknown kind %d", cfg->kind);
        return NULL;
    }
    /* Written as !(x > 0) so that NaN is refused too. */
    if (!(cfg->lr > 0.0f) || !isfinite(cfg->lr) || !(cfg->weight_decay >= 0.0f) ||
        !isfinite(cfg->weight_decay) || !in_unit(cfg->momentum) || !in_unit(cfg->beta1) ||
        !in_unit(cfg->beta2) || !(cfg->eps > 0.0f)) {
        tmlp_fail(err, TMLP_EINVAL,
                  "%s: need lr > 0 (got %g), weight_decay >= 0 (got %g), momentum, beta1, beta2 in "
                  "[0, 1) (got %g, %g, %g), eps > 0 (got %g)",
                  name, (double)cfg->lr, (double)cfg->weight_decay, (double)cfg->momentum,
                  (double)cfg->beta1, (double)cfg->beta2, (double)cfg->eps);
        return NULL;
    }
    if (n == 0 || n > ((size_t)-1) / (2 * sizeof(float))) {
        tmlp_fail(err, TMLP_EINVAL, "%s: bad parameter count %zu", name, n);
        return NULL;
    }
    tmlp_optim *o = calloc(1, sizeof *o);
    if (!o)
        goto nomem;
    o->cfg = *cfg;
    o->n = n;
    int first = cfg->kind == TMLP_OPT_MOMENTUM || cfg->kind == TMLP_OPT_NESTEROV ||
                cfg->kind == TMLP_OPT_ADAM || cfg->kind == TMLP_OPT_ADAMW;
    int second = cfg->kind >= TMLP_OPT_ADAM;
    if (first && !(o->m = calloc(n, sizeof *o->m)))
        goto nomem;
    if (second && !(o->v = calloc(n, sizeof *o->v)))
        goto nomem;
    return o;
nomem:
    tmlp_optim_free(o);
    tmlp_fail(err, TMLP_ENOMEM, "%s: no memory for the state of %zu parameters", name, n);
    return NULL;
}

void tmlp_optim_free(tmlp_optim *o)
{
    if (!o)
        return;
    free(o->m);
    free(o->v);
    free(o);
}

/* The update loops are the hottest code outside BLAS: each is one pass over the flat
 * parameter block, vectorised (see hot.h). Each also keeps the largest exponent field among
 * the parameters it writes (tmlp_exp_field), so that the caller learns whether any became inf
 * or NaN without a second pass over the block. */

/* One step's constants, shared by every chunk of the update. */
typedef struct job {
    tmlp_optim *o;
    float *p;
    const float *g;
    float step, inv_sqrt_c2, coupled_wd, shrink; /* adam family */
} job;

TMLP_HOT static uint32_t sgd_step(const job *j, size_t begin, size_t end)
{
    const tmlp_optim *o = j->o;
    const float lr = o->cfg.lr, wd = o->cfg.weight_decay, mu = o->cfg.momentum;
    float *restrict p = j->p + begin, *restrict v = o->m ? o->m + begin : NULL;
    const float *restrict g = j->g + begin;
    const size_t n = end - begin;
    uint32_t top = 0;
    switch (o->cfg.kind) {
    case TMLP_OPT_SGD:
        for (size_t i = 0; i < n; i++) {
            const float pi = p[i] - lr * (g[i] + wd * p[i]);
            p[i] = pi;
            top = tmlp_max_u32(top, tmlp_exp_field(pi));
        }
        break;
    case TMLP_OPT_MOMENTUM:
        for (size_t i = 0; i < n; i++) {
            const float gi = g[i] + wd * p[i];
            /* PyTorch starts the buffer at the first gradient, the same as mu*0 + g. */
            const float vi = mu * v[i] + gi, pi = p[i] - lr * vi;
            v[i] = vi;
            p[i] = pi;
            top = tmlp_max_u32(top, tmlp_exp_field(pi));
        }
        break;
    default: /* nesterov */
        for (size_t i = 0; i < n; i++) {
            const float gi = g[i] + wd * p[i];
            const float vi = mu * v[i] + gi, pi = p[i] - lr * (gi + mu * vi);
            v[i] = vi;
            p[i] = pi;
            top = tmlp_max_u32(top, tmlp_exp_field(pi));
        }
        break;
    }
    return top;
}

TMLP_HOT static uint32_t adam_step(const job *j, size_t begin, size_t end)
{
    const tmlp_optim *o = j->o;
    const float b1 = o->cfg.beta1, b2 = o->cfg.beta2, eps = o->cfg.eps;
    const float step = j->step, inv_sqrt_c2 = j->inv_sqrt_c2, coupled_wd = j->coupled_wd;
    const float shrink = j->shrink;
    float *restrict p = j->p + begin, *restrict m = o->m + begin, *restrict v = o->v + begin;
    const float *restrict g = j->g + begin;
    const size_t n = end - begin;
    uint32_t top = 0;
    /* The moments are kept in locals and stored once: reading m[i] back right after storing
     * it costs a failed store-to-load forward per vector on some CPUs (3x slower on Zen 4). */
    for (size_t i = 0; i < n; i++) {
        const float gi = g[i] + coupled_wd * p[i];
        const float mi = b1 * m[i] + (1.0f - b1) * gi;
        const float vi = b2 * v[i] + (1.0f - b2) * gi * gi;
        const float pi = shrink * p[i] - step * mi / (sqrtf(vi) * inv_sqrt_c2 + eps);
        m[i] = mi;
        v[i] = vi;
        p[i] = pi;
        top = tmlp_max_u32(top, tmlp_exp_field(pi));
    }
    return top;
}

/* RMSProp (s = a s + (1-a) g², a = beta2) and Adagrad (s += g²), both p -= lr g / (√s + eps). */
TMLP_HOT static uint32_t scaled_step(const job *j, size_t begin, size_t end)
{
    const tmlp_optim *o = j->o;
    const float lr = o->cfg.lr, wd = o->cfg.weight_decay, eps = o->cfg.eps;
    const int adagrad = o->cfg.kind == TMLP_OPT_ADAGRAD;
    const float a = adagrad ? 1.0f : o->cfg.beta2, b = adagrad ? 1.0f : 1.0f - o->cfg.beta2;
    float *restrict p = j->p + begin, *restrict s = o->v + begin;
    const float *restrict g = j->g + begin;
    const size_t n = end - begin;
    uint32_t top = 0;
    for (size_t i = 0; i < n; i++) {
        const float gi = g[i] + wd * p[i];
        const float si = a * s[i] + b * gi * gi, pi = p[i] - lr * gi / (sqrtf(si) + eps);
        s[i] = si;
        p[i] = pi;
        top = tmlp_max_u32(top, tmlp_exp_field(pi));
    }
    return top;
}

/* One chunk of the update; 1 when a parameter it wrote is inf or NaN. */
static unsigned step_chunk(void *ctx, size_t begin, size_t end)
{
    const job *j = ctx;
    const int kind = j->o->cfg.kind;
    uint32_t top;
    const fp_mode mode = flush_begin();
    if (kind == TMLP_OPT_ADAM || kind == TMLP_OPT_ADAMW)
        top = adam_step(j, begin, end);
    else if (kind == TMLP_OPT_RMSPROP || kind == TMLP_OPT_ADAGRAD)
        top = scaled_step(j, begin, end);
    else
        top = sgd_step(j, begin, end);
    flush_end(mode);
    return top == TMLP_EXP_ALL_ONES;
}

/* Parameters per chunk when the update is split between threads: 64 KiB of each array, small
 * enough to balance two threads on a 100k-parameter net, large enough that claiming a chunk
 * costs nothing beside it. */
#define CHUNK 16384

int tmlp_optim_step(tmlp_optim *o, float *param, const float *grad)
{
    if (o->t < LONG_MAX)    /* never wraps (set_state caps t at TMLP_OPTIM_MAX_STEPS) */
        o->t++;
    job j = { .o = o, .p = param, .g = grad };
    if (o->cfg.kind == TMLP_OPT_ADAM || o->cfg.kind == TMLP_OPT_ADAMW) {
        const float lr = o->cfg.lr, wd = o->cfg.weight_decay;
        /* Bias corrections in double: b^t underflows gracefully and 1 - b^t keeps its digits. */
        const double c1 = 1.0 - pow(o->cfg.beta1, (double)o->t);
        const double c2 = 1.0 - pow(o->cfg.beta2, (double)o->t);
        const int decoupled = o->cfg.kind == TMLP_OPT_ADAMW;
        j.step = (float)(lr / c1);
        j.inv_sqrt_c2 = (float)(1.0 / sqrt(c2));
        j.coupled_wd = decoupled ? 0.0f : wd;
        j.shrink = decoupled ? 1.0f - lr * wd : 1.0f;
    }
    return !tmlp_team_run(o->team, step_chunk, &j, o->n, tmlp_team_chunk(o->team, o->n, CHUNK));
}

void tmlp_optim_set_team(tmlp_optim *o, tmlp_team *team) { o->team = team; }

tmlp_team *tmlp_optim_team(const tmlp_optim *o) { return o->team; }

float tmlp_optim_lr(const tmlp_optim *o) { return o->cfg.lr; }
void tmlp_optim_set_lr(tmlp_optim *o, float lr) { o->cfg.lr = lr; }
tmlp_optim_cfg tmlp_optim_config(const tmlp_optim *o) { return o->cfg; }
long tmlp_optim_steps(const tmlp_optim *o) { return o->t; }
size_t tmlp_optim_size(const tmlp_optim *o) { return o->n; }

void tmlp_optim_reset(tmlp_optim *o)
{
    o->t = 0;
    if (o->m)
        memset(o->m, 0, o->n * sizeof *o->m);
    if (o->v)
        memset(o->v, 0, o->n * sizeof *o->v);
}

void tmlp_optim_state(const tmlp_optim *o, const float **m, const float **v, long *t)
{
    if (m)
        *m = o->m;
    if (v)
        *v = o->v;
    if (t)
        *t = o->t;
}

/* Index of the first element of x[0..n) that is not finite (or negative, if nonneg), or n. */
static size_t first_bad(const float *x, size_t n, int nonneg)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(x[i]) || (nonneg && x[i] < 0.0f))
            return i;
    return n;
}

int tmlp_optim_set_state(tmlp_optim *o, const float *m, const float *v, long t, tmlp_err *err)
{
    const char *name = tmlp_optim_name(o->cfg.kind);
    if (!m != !o->m || !v != !o->v)
        return tmlp_fail(err, TMLP_EINVAL, "%s: state needs %s, got %s", name,
                         o->m && o->v ? "first and second moments" : o->m ? "a first moment only"
                         : o->v ? "a second moment only" : "no moments",
                         m && v ? "both" : m ? "a first moment" : v ? "a second moment" : "none");
    if (t < 0 || t > TMLP_OPTIM_MAX_STEPS)
        return tmlp_fail(err, TMLP_EINVAL, "%s: step count %ld is outside 0..%lld", name, t,
                         (long long)TMLP_OPTIM_MAX_STEPS);
    size_t i;
    if (m && (i = first_bad(m, o->n, 0)) < o->n)
        return tmlp_fail(err, TMLP_EINVAL, "%s: first moment element %zu is %g", name, i,
                         (double)m[i]);
    if (v && (i = first_bad(v, o->n, 1)) < o->n)
        return tmlp_fail(err, TMLP_EINVAL, "%s: second moment element %zu is %g, expected a "
                         "finite value >= 0", name, i, (double)v[i]);
    if (m)
        memcpy(o->m, m, o->n * sizeof *o->m);
    if (v)
        memcpy(o->v, v, o->n * sizeof *o->v);
    o->t = t;
    return TMLP_OK;
}
