/* export_c.c: folds a net into plain dense layers and writes it as a float C99 header.
 *
 * The header is what `tinymlp predict` computes, written out: each layer's weights and biases
 * as `static const float` arrays (printed with "%.9g", which reads back as the same float),
 * a dense loop, the activation in the same formula and precision as src/act/ (in double where
 * the library works in double, with libm's exp in place of the library's vectorising one),
 * and the loss's output link as tmlp_loss_link applies it. Nothing is allocated or written
 * outside the caller's arrays: the two layer buffers live on the stack. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "export.h"

/* --- folding --- */

void export_model_free(export_model *m)
{
    for (int i = 0; i < m->n_layers; i++) {
        free(m->L[i].W);
        free(m->L[i].b);
        m->L[i].W = m->L[i].b = NULL;
    }
    m->n_layers = 0;
}

static int builtin(const tmlp_act *act); /* below, with the code table */

int export_fold(export_model *m, const tmlp_net *net, const cli_prep *prep, tmlp_err *err)
{
    memset(m, 0, sizeof *m);
    const tmlp_net_spec *spec = tmlp_net_get_spec(net);
    m->n_in = tmlp_net_n_in(net);
    m->n_out = tmlp_net_n_out(net);
    m->loss = spec->loss;
    m->scale = prep->scale;
    m->prep_scale = prep->scale != 1.0f;
    m->prep_std = prep->n > 0;
    int used = snprintf(m->arch, sizeof m->arch, "%d inputs", m->n_in);
    for (int i = 0; i < spec->n_layers; i++) {
        tmlp_layer_view v;
        if (tmlp_net_layer(net, i, &v, err))
            goto fail;
        if (!builtin(v.act)) {
            tmlp_fail(err, TMLP_EINVAL, "layer %d: activation '%s' is not built into tinymlp; "
                      "export writes only built-in activations", i + 1, v.act->name);
            goto fail;
        }
        export_layer *L = &m->L[i];
        m->n_layers = i + 1;
        L->n_in = v.n_in;
        L->n_out = v.n_out;
        L->act = v.act;
        L->arg = v.act_arg;
        L->param = v.act_param;
        L->n_param = v.n_act_params;
        L->bn = v.bn_gamma != NULL;
        L->W = malloc((size_t)v.n_in * (size_t)v.n_out * sizeof *L->W);
        L->b = malloc((size_t)v.n_out * sizeof *L->b);
        if (!L->W || !L->b) {
            tmlp_fail(err, TMLP_ENOMEM, "export: no memory");
            goto fail;
        }
        for (int o = 0; o < v.n_out; o++) {
            const float *w = v.W + (size_t)o * v.n_in;
            /* BN in evaluation: u = g (z - mean) / sqrt(var + eps) + beta, as bn.c computes it */
            double s = 1.0, shift = 0.0;
            if (L->bn) {
                float inv = 1.0f / sqrtf(v.bn_var[o] + TMLP_BN_EPS);
                s = (double)v.bn_gamma[o] * inv;
                shift = (double)v.bn_beta[o] - s * v.bn_mean[o];
            }
            /* the first layer sees x' = (scale x - mean) inv_std: W' = W scale inv_std and
             * b' = b - Σ W inv_std mean */
            double b = v.b[o];
            for (int j = 0; j < v.n_in; j++) {
                double wj = w[j];
                if (i == 0) {
                    double inv_std = prep->n ? prep->inv_std[j] : 1.0;
                    if (prep->n)
                        b -= wj * inv_std * prep->mean[j];
                    wj *= (double)prep->scale * inv_std;
                }
                L->W[(size_t)o * v.n_in + j] = (float)(s * wj);
            }
            L->b[o] = (float)(s * b + shift);
            int bad = !isfinite(L->b[o]);
            for (int j = 0; j < v.n_in && !bad; j++)
                bad = !isfinite(L->W[(size_t)o * v.n_in + j]);
            if (bad) {
                tmlp_fail(err, TMLP_EINVAL, "layer %d, unit %d: folding the %s gives a number "
                          "too large for a float", i + 1, o,
                          L->bn ? "batch norm" : "input standardisation");
                goto fail;
            }
        }
        char act[64];
        tmlp_act_format(v.act, v.act_arg, act, sizeof act);
        if ((size_t)used < sizeof m->arch)
            used += snprintf(m->arch + used, sizeof m->arch - (size_t)used, " -> %d%s%s%s%s",
                             v.n_out, strcmp(v.act->name, "identity") ? ":" : "",
                             strcmp(v.act->name, "identity") ? act : "", L->bn ? ":bn" : "",
                             v.dropout > 0.0f ? " (dropout left out)" : "");
    }
    return TMLP_OK;
fail:
    export_model_free(m);
    return err ? err->code : TMLP_EINVAL;
}

/* --- the activations as C --- */

/* libm functions, as bits of a mask */
enum { M_EXP = 1, M_FABS = 2, M_EXPM1F = 4, M_EXPM1 = 8, M_LOG1P = 16, M_FMAX = 32,
       M_ERFC = 64, M_LOG = 128, M_EXPF = 256, M_COPYSIGN = 512 };
static const char *const libm_names[] = { "exp", "fabs", "expm1f", "expm1", "log1p", "fmax",
                                          "erfc", "log", "expf", "copysign" };

#define SAT "v > 3.40282347e+38 ? 3.40282347e+38f : v < -3.40282347e+38 ? -3.40282347e+38f : (float)v"
#define GATE(z) "double e = exp(-fabs(" z ")), d = 1.0 / (1.0 + e), s = " z " >= 0.0 ? d : e * d;"

/* Each built-in activation as the body of `static float P_NAME(float x, float a)` (a: the
 * layer's argument or the unit's parameter), or of `static void P_NAME(float *v, int n)` for
 * the row-wise ones; each the formula of its src/act/ file. */
static const struct code {
    const char *name;
    int libm;
    int rowwise;
    const char *body;
} codes[] = {
    { "identity", 0, 0, "(void)a;\n    return x;" },
    { "binary_step", 0, 0, "(void)a;\n    return x >= 0.0f ? 1.0f : 0.0f;" },
    { "relu", 0, 0, "(void)a;\n    return x > 0.0f ? x : 0.0f;" },
    { "relu6", 0, 0, "(void)a;\n    return x > 0.0f ? (x < 6.0f ? x : 6.0f) : 0.0f;" },
    { "leaky_relu", 0, 0, "return x > 0.0f ? x : a * x;" },
    { "prelu", 0, 0, "return x > 0.0f ? x : a * x;" },
    { "hardtanh", 0, 0, "(void)a;\n    return x < -1.0f ? -1.0f : x > 1.0f ? 1.0f : x;" },
    { "hard_sigmoid", 0, 0,
      "(void)a;\n    return x <= -3.0f ? 0.0f : x >= 3.0f ? 1.0f : (float)(((double)x + 3.0) / 6.0);" },
    { "softsign", 0, 0, "(void)a;\n    return x / (1.0f + (x < 0.0f ? -x : x));" },
    { "sigmoid", M_EXP | M_FABS, 0,
      "double z = x;\n    " GATE("z") "\n    (void)a;\n    return (float)s;" },
    { "tanh", M_EXP | M_FABS | M_COPYSIGN, 0,
      "double v = fabs((double)x), v2 = v * v, e = exp(-2.0 * v);\n"
      "    double t = v < 9.765625e-4 ? v - v * v2 * (1.0 / 3.0 - v2 * (2.0 / 15.0))\n"
      "                               : (1.0 - e) / (1.0 + e);\n"
      "    (void)a;\n    return (float)copysign((double)(float)t, (double)x);" },
    { "elu", M_EXPM1F, 0, "return x > 0.0f ? x : a * expm1f(x);" },
    { "selu", M_EXPM1F, 0,
      "double v = 1.0507009873554804934193349852946 * x;\n    (void)a;\n"
      "    if (x > 0.0f)\n        return " SAT ";\n"
      "    return (float)1.7580993408473768599402175208123 * expm1f(x);" },
    { "celu", M_EXPM1, 0, "return x > 0.0f ? x : (float)(a * expm1((double)x / a));" },
    { "softplus", M_EXP | M_FABS | M_LOG1P | M_FMAX, 0,
      "double bx = (double)a * x, v;\n    if (bx > 20.0)\n        return x;\n"
      "    v = (log1p(exp(-fabs(bx))) + fmax(bx, 0.0)) / a;\n    return " SAT ";" },
    { "gelu", M_ERFC, 0,
      "(void)a;\n    return (float)(x * (0.5 * erfc(-x * 0.70710678118654752440084436210485)));" },
    { "gelu_tanh", M_EXP | M_FABS, 0,
      "double v = x, u = 0.79788456080286535587989211986876 * (v + 0.044715 * v * v * v);\n"
      "    double z = 2.0 * u;\n    " GATE("z") "\n    (void)a;\n    return (float)(v * s);" },
    { "silu", M_EXP | M_FABS, 0,
      "double z = (double)x;\n    " GATE("z") "\n    (void)a;\n    return (float)(x * s);" },
    { "swish", M_EXP | M_FABS, 0,
      "double z = (double)a * x;\n    " GATE("z") "\n    return (float)(x * s);" },
    { "swish_learnable", M_EXP | M_FABS, 0,
      "double z = (double)a * x;\n    " GATE("z") "\n    return (float)(x * s);" },
    { "mish", M_EXP, 0,
      "double t;\n    (void)a;\n    if (x <= 0.0f) {\n"
      "        double n = exp((double)x), w = n * (n + 2.0);\n        t = w / (w + 2.0);\n"
      "    } else {\n        double e = exp(-(double)x), q = 1.0 + 2.0 * e + 2.0 * e * e;\n"
      "        t = (1.0 + 2.0 * e) / q;\n    }\n    return (float)(x * t);" },
    { "softmax", M_EXP, 1,
      "int k = 0, j;\n    double rest = 0.0, inv;\n"
      "    for (j = 1; j < n; j++)\n        if (v[j] > v[k])\n            k = j;\n"
      "    for (j = 0; j < n; j++)\n        if (j != k)\n            rest += exp((double)v[j] - v[k]);\n"
      "    inv = 1.0 / (1.0 + rest);\n    {\n        double m = v[k];\n"
      "        for (j = 0; j < n; j++)\n            v[j] = (float)(exp((double)v[j] - m) * inv);\n    }" },
    { "log_softmax", M_EXP | M_LOG1P, 1,
      "int k = 0, j;\n    double rest = 0.0, lse, m;\n"
      "    for (j = 1; j < n; j++)\n        if (v[j] > v[k])\n            k = j;\n"
      "    for (j = 0; j < n; j++)\n        if (j != k)\n            rest += exp((double)v[j] - v[k]);\n"
      "    lse = log1p(rest);\n    m = v[k];\n    for (j = 0; j < n; j++) {\n"
      "        double y = ((double)v[j] - m) - lse;\n"
      "        v[j] = y > 3.40282347e+38 ? 3.40282347e+38f : y < -3.40282347e+38 ? -3.40282347e+38f : (float)y;\n    }" },
};
#define N_CODES ((int)(sizeof codes / sizeof codes[0]))

static const struct code *code_of(const tmlp_act *act)
{
    for (int c = 0; c < N_CODES; c++)
        if (!strcmp(codes[c].name, act->name))
            return &codes[c];
    return NULL;
}

/* Built in: a name in the table whose registry entry is this very definition (the registry
 * finds built-ins first, so a user's definition can never carry a built-in's name there). */
static int builtin(const tmlp_act *act)
{
    return act && code_of(act) && tmlp_act_find(act->name) == act;
}

static int link_libm(int loss)
{
    return loss == TMLP_LOSS_SOFTMAX_CE ? M_EXP | M_LOG : loss == TMLP_LOSS_SIGMOID_BCE ? M_EXPF : 0;
}

int export_libm_mask(const export_model *m)
{
    int mask = link_libm(m->loss);
    for (int i = 0; i < m->n_layers; i++)
        mask |= code_of(m->L[i].act)->libm;
    return mask;
}

void export_folded_note(FILE *f, const export_model *m)
{
    if (m->prep_scale || m->prep_std)
        fprintf(f, " * folded into layer 1: %s%s%s\n", m->prep_scale ? "the input scale" : "",
                m->prep_scale && m->prep_std ? " and " : "",
                m->prep_std ? "the input standardisation" : "");
    for (int i = 0; i < m->n_layers; i++)
        if (m->L[i].bn)
            fprintf(f, " * folded into layer %d: its batch norm (running statistics)\n", i + 1);
}

void export_libm_note(const export_model *m, char *buf, size_t size)
{
    int mask = 0, used = 0;
    char who[256] = "";
    size_t wu = 0;
    for (int i = 0; i < m->n_layers; i++) {
        const struct code *c = code_of(m->L[i].act);
        if (c->libm && !strstr(who, c->name))
            wu += (size_t)snprintf(who + wu, wu < sizeof who ? sizeof who - wu : 0, "%s%s",
                                   wu ? ", " : "", c->name);
        mask |= c->libm;
    }
    if (link_libm(m->loss) && wu < sizeof who)
        snprintf(who + wu, sizeof who - wu, "%sthe %s output link", wu ? ", " : "",
                 m->loss == TMLP_LOSS_SOFTMAX_CE ? "softmax" : "sigmoid");
    mask |= link_libm(m->loss);
    if (!mask) {
        snprintf(buf, size, "none (link without -lm)");
        return;
    }
    for (int b = 0; b < 10; b++)
        if (mask & (1 << b))
            used += snprintf(buf + used, (size_t)used < size ? size - (size_t)used : 0, "%s%s",
                             used ? ", " : "", libm_names[b]);
    if ((size_t)used < size)
        snprintf(buf + used, size - (size_t)used, " for %s: link with -lm", who);
}

void export_act_helpers(FILE *f, const export_model *m, const char *prefix, int int8)
{
    for (int c = 0; c < N_CODES; c++) {
        int needed = 0;
        for (int i = 0; i < m->n_layers; i++)
            needed |= !strcmp(m->L[i].act->name, codes[c].name) && strcmp(codes[c].name, "identity") &&
                      !(int8 && !strcmp(codes[c].name, "relu")); /* int8: relu is integer */
        if (!needed)
            continue;
        if (codes[c].rowwise)
            fprintf(f, "static inline void %s_%s(float *v, int n)\n{\n    %s\n}\n\n", prefix,
                    codes[c].name, codes[c].body);
        else
            fprintf(f, "static inline float %s_%s(float x, float a)\n{\n    %s\n}\n\n", prefix,
                    codes[c].name, codes[c].body);
    }
}

void export_act_apply(FILE *f, const export_model *m, int i, const char *prefix, const char *v)
{
    const export_layer *L = &m->L[i];
    const struct code *c = code_of(L->act);
    char a[48];
    if (!strcmp(c->name, "identity"))
        return;
    if (c->rowwise) {
        fprintf(f, "    %s_%s(%s, %d);\n", prefix, c->name, v, L->n_out);
        return;
    }
    if (L->act->params == TMLP_ACT_PARAM_PER_UNIT) {
        fprintf(f, "    for (i = 0; i < %d; i++)\n        %s[i] = %s_%s(%s[i], %s_a%d[i]);\n",
                L->n_out, v, prefix, c->name, v, prefix, i);
        return;
    }
    export_float_literal(a, sizeof a, L->act->params == TMLP_ACT_PARAM_SHARED && L->param
                                          ? L->param[0] : L->arg);
    fprintf(f, "    for (i = 0; i < %d; i++)\n        %s[i] = %s_%s(%s[i], %s);\n", L->n_out, v,
            prefix, c->name, v, a);
}

void export_link_apply(FILE *f, const export_model *m, const char *v)
{
    int n = m->n_out;
    if (m->loss == TMLP_LOSS_SOFTMAX_CE)
        fprintf(f, "    {   /* softmax, as tmlp_loss_link */\n"
                   "        float mx = %s[0];\n        double sum = 0.0, lse;\n"
                   "        for (i = 1; i < %d; i++)\n            mx = %s[i] > mx ? %s[i] : mx;\n"
                   "        for (i = 0; i < %d; i++)\n            sum += exp((double)%s[i] - mx);\n"
                   "        lse = mx + log(sum);\n"
                   "        for (i = 0; i < %d; i++)\n            out[i] = (float)exp((double)%s[i] - lse);\n"
                   "    }\n", v, n, v, v, n, v, n, v);
    else if (m->loss == TMLP_LOSS_SIGMOID_BCE)
        fprintf(f, "    for (i = 0; i < %d; i++)   /* sigmoid, as tmlp_loss_link */\n"
                   "        out[i] = %s[i] >= 0 ? 1.0f / (1.0f + expf(-%s[i]))\n"
                   "                          : expf(%s[i]) / (1.0f + expf(%s[i]));\n",
                n, v, v, v, v);
    else
        fprintf(f, "    for (i = 0; i < %d; i++)\n        out[i] = %s[i];\n", n, v);
}

/* --- printing --- */

void export_float_literal(char *buf, size_t size, float v)
{
    char tmp[40];
    snprintf(tmp, sizeof tmp, "%.9g", (double)v);
    snprintf(buf, size, "%s%sf", tmp, strpbrk(tmp, ".e") ? "" : ".0");
}

void export_float_array(FILE *f, const char *prefix, const char *what, int i, const float *v,
                        size_t n)
{
    fprintf(f, "static const float %s_%s%d[%zu] = {", prefix, what, i, n);
    for (size_t k = 0; k < n; k++) {
        char lit[48];
        export_float_literal(lit, sizeof lit, v[k]);
        fprintf(f, "%s%s", k % 8 ? " " : "\n    ", lit);
        if (k + 1 < n)
            fputc(',', f);
    }
    fprintf(f, "\n};\n");
}

static int widest(const export_model *m)
{
    int w = 1;
    for (int i = 0; i < m->n_layers; i++)
        w = m->L[i].n_out > w ? m->L[i].n_out : w;
    return w;
}

int export_c_float(FILE *f, const export_model *m, const export_info *info, tmlp_err *err)
{
    const char *p = info->name;
    char up[64], libm[512];
    size_t n_w = 0;
    int i;
    for (i = 0; p[i] && i < 63; i++)
        up[i] = (char)(p[i] >= 'a' && p[i] <= 'z' ? p[i] - 'a' + 'A' : p[i]);
    up[i] = '\0';
    for (i = 0; i < m->n_layers; i++)
        n_w += (size_t)m->L[i].n_out * ((size_t)m->L[i].n_in + 1) +
               (m->L[i].act->params == TMLP_ACT_PARAM_PER_UNIT ? (size_t)m->L[i].n_out : 0);
    export_libm_note(m, libm, sizeof libm);
    int w = widest(m);
    fprintf(f, "/* %s.h: a trained tinymlp network as dependency-free C99, float weights.\n"
               " * Written by `tinymlp export` (tinymlp %s); export the model again rather than edit it.\n"
               " *\n"
               " * model file sha256: %s\n"
               " * architecture: %s; loss %s\n",
            p, TINYMLP_VERSION, info->sha256, m->arch, tmlp_loss_name(m->loss));
    export_folded_note(f, m);
    fprintf(f, " * libm: %s\n"
               " * weights: %zu floats, %zu bytes; RAM for the forward pass: 2 x %d floats\n"
               " *   (%zu bytes) on the stack, nothing written but out\n"
               " *\n"
               " * %s_predict(x, out): x holds %s_N_IN raw inputs in the units of the training data\n"
               " *   (`tinymlp predict` takes the same rows); out gets %s_N_OUT values, the ones\n"
               " *   `tinymlp predict --probs` prints. %s_classify(x): the class `tinymlp predict`\n"
               " *   prints.\n"
               " */\n",
            libm, n_w, n_w * sizeof(float), w, 2 * (size_t)w * sizeof(float), p, up, up, p);
    fprintf(f, "#ifndef %s_H\n#define %s_H\n\n", up, up);
    if (export_libm_mask(m))
        fprintf(f, "#include <math.h>\n\n");
    fprintf(f, "#define %s_N_IN %d\n#define %s_N_OUT %d\n\n", up, m->n_in, up, m->n_out);
    for (i = 0; i < m->n_layers; i++) {
        const export_layer *L = &m->L[i];
        fprintf(f, "/* layer %d: %d -> %d */\n", i + 1, L->n_in, L->n_out);
        export_float_array(f, p, "w", i, L->W, (size_t)L->n_out * L->n_in);
        export_float_array(f, p, "b", i, L->b, (size_t)L->n_out);
        if (L->act->params == TMLP_ACT_PARAM_PER_UNIT)
            export_float_array(f, p, "a", i, L->param, (size_t)L->n_out);
    }
    /* Eight partial sums in a fixed order: the same bytes of output on every compiler, and a
     * loop a compiler vectorises without -ffast-math (one running sum it may not reorder). */
    fprintf(f, "\n/* y = W x + b for one row: W (n_out, n_in); eight partial sums, so the\n"
               " * compiler can vectorise the loop without reordering any sum itself */\n"
               "static inline void %s_dense(const float *w, const float *b, const float *x, int n_in,\n"
               "                     int n_out, float *y)\n{\n"
               "    int i, j, k;\n    for (i = 0; i < n_out; i++) {\n"
               "        const float *wi = w + (long)i * n_in;\n"
               "        float s[8] = { 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f };\n"
               "        for (j = 0; j + 8 <= n_in; j += 8)\n"
               "            for (k = 0; k < 8; k++)\n                s[k] += wi[j + k] * x[j + k];\n"
               "        for (; j < n_in; j++)\n            s[0] += wi[j] * x[j];\n"
               "        y[i] = ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7])) + b[i];\n"
               "    }\n}\n\n", p);
    export_act_helpers(f, m, p, 0);
    fprintf(f, "/* out[%s_N_OUT] for one row x[%s_N_IN] */\n"
               "static inline void %s_predict(const float *x, float *out)\n{\n"
               "    float h0[%d], h1[%d];\n    int i;\n", up, up, p, w, w);
    for (i = 0; i < m->n_layers; i++) {
        char v[8];
        snprintf(v, sizeof v, "h%d", i % 2);
        fprintf(f, "    %s_dense(%s_w%d, %s_b%d, %s, %d, %d, %s);\n", p, p, i, p, i,
                i == 0 ? "x" : (i % 2 ? "h0" : "h1"), m->L[i].n_in, m->L[i].n_out, v);
        export_act_apply(f, m, i, p, v);
    }
    export_link_apply(f, m, (m->n_layers - 1) % 2 ? "h1" : "h0");
    export_classify(f, m, p, up);
    fprintf(f, "\n#endif\n");
    if (fflush(f) || ferror(f))
        return tmlp_fail(err, TMLP_EIO, "writing the header failed");
    return TMLP_OK;
}

void export_classify(FILE *f, const export_model *m, const char *p, const char *up)
{
    fprintf(f, "}\n\n/* the class of one row x[%s_N_IN], as `tinymlp predict` picks it */\n"
               "static inline int %s_classify(const float *x)\n{\n"
               "    float out[%s_N_OUT];\n    int k = 0;\n", up, p, up);
    if (m->n_out == 1)
        fprintf(f, "    %s_predict(x, out);\n    k = out[0] > 0.5f;\n", p);
    else
        fprintf(f, "    int i;\n    %s_predict(x, out);\n    for (i = 1; i < %s_N_OUT; i++)\n"
                   "        if (out[i] > out[k])\n            k = i;\n", p, up);
    fprintf(f, "    return k;\n}\n");
}
