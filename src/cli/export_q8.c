/* export_q8.c: the int8 header (`tinymlp export --int8 --calib DATA`): post-training
 * quantisation of the folded layers.
 *
 *   weights     symmetric per output channel: Wq = round(W / sw), sw = max|W_row| / 127
 *   inputs      one scale per layer, from the calibration rows' largest |input| (layer 1:
 *               over every feature) or |activation|;
 *               0..255 when the calibration values are never negative (pixels, ReLU
 *               outputs), else -127..127
 *   arithmetic  int8 x int8 (or uint8) products into int32 accumulators that start at the
 *               bias, quantised to the accumulator's scale; ReLU (and identity) then act on
 *               the integer accumulator; each unit is rescaled to float once (one multiply)
 *               and every other activation, and the output link, is the float header's exact
 *               formula on that value (the "exact float fallback"), then quantised for the
 *               next layer with round-half-away-from-zero and a clamp (no libm needed).
 * Calibration runs the folded float layers over the rows with the library's own activation
 * functions. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "export_q8.h"

/* Per layer: what the calibration saw at its input (layer 0: per feature) */
typedef struct q8_layer {
    int8_t *Wq;      /* (n_out, n_in) */
    int32_t *bq;     /* (n_out) */
    float *m;        /* (n_out) accumulator -> float: sw_o * s_in */
    float in_scale;  /* layers > 0: the input's scale */
    int in_unsigned; /* the input is quantised 0..255 */
} q8_layer;

static float absmax(const float *v, size_t n, int *nonneg)
{
    float m = 0.0f;
    for (size_t k = 0; k < n; k++) {
        float a = fabsf(v[k]);
        m = a > m ? a : m;
        if (v[k] < 0.0f)
            *nonneg = 0;
    }
    return m;
}

int export_q8_calibrate(export_q8 *q, const export_model *m, const float *x, int n_rows,
                        tmlp_err *err)
{
    memset(q, 0, sizeof *q);
    int w = m->n_in;
    for (int i = 0; i < m->n_layers; i++)
        w = m->L[i].n_out > w ? m->L[i].n_out : w;
    float *h = malloc((size_t)w * 2 * sizeof *h);
    q->x_scale = calloc((size_t)m->n_in, sizeof *q->x_scale);
    if (!h || !q->x_scale) {
        free(h);
        export_q8_free(q);
        return tmlp_fail(err, TMLP_ENOMEM, "export: no memory");
    }
    q->x_unsigned = 1;
    for (int i = 0; i < m->n_layers; i++)
        q->a_unsigned[i] = 1;
    for (int r = 0; r < n_rows; r++) {
        const float *in = x + (size_t)r * m->n_in;
        for (int j = 0; j < m->n_in; j++) {
            float a = fabsf(in[j]);
            q->x_scale[j] = a > q->x_scale[j] ? a : q->x_scale[j];
            q->x_unsigned &= in[j] >= 0.0f;
        }
        const float *cur = in;
        for (int i = 0; i < m->n_layers; i++) {
            const export_layer *L = &m->L[i];
            float *z = h + (i % 2) * (size_t)w;
            for (int o = 0; o < L->n_out; o++) {
                const float *wr = L->W + (size_t)o * L->n_in;
                float s = 0.0f;
                for (int j = 0; j < L->n_in; j++)
                    s += wr[j] * cur[j];
                z[o] = s + L->b[o];
            }
            L->act->forward(1, L->n_out, z, z, L->arg, L->param);
            float a = absmax(z, (size_t)L->n_out, &q->a_unsigned[i]);
            q->a_max[i] = a > q->a_max[i] ? a : q->a_max[i];
            cur = z;
        }
    }
    free(h);
    /* One scale for all the inputs: per feature, an input the calibration rows left at 0 (a
     * border pixel) or in a small range would be clamped in rows that go further. A range of
     * 0 (an input or layer that never moved) keeps scale 1. */
    float xmax = 0.0f;
    for (int j = 0; j < m->n_in; j++)
        xmax = q->x_scale[j] > xmax ? q->x_scale[j] : xmax;
    for (int j = 0; j < m->n_in; j++)
        q->x_scale[j] = xmax > 0.0f ? xmax / (q->x_unsigned ? 255.0f : 127.0f) : 1.0f;
    for (int i = 0; i < m->n_layers; i++)
        q->a_scale[i] = q->a_max[i] > 0.0f ? q->a_max[i] / (q->a_unsigned[i] ? 255.0f : 127.0f) : 1.0f;
    q->n_rows = n_rows;
    q->rows = x;
    return TMLP_OK;
}

void export_q8_free(export_q8 *q)
{
    free(q->x_scale);
    q->x_scale = NULL;
}

static int32_t round_i32(double v)
{
    return (int32_t)(v >= 0.0 ? v + 0.5 : v - 0.5);
}

/* Quantises layer i of m with the calibrated input scales. */
static int quantise(q8_layer *ql, const export_model *m, const export_q8 *q, int i, tmlp_err *err)
{
    const export_layer *L = &m->L[i];
    ql->in_scale = i == 0 ? 1.0f : q->a_scale[i - 1];
    ql->in_unsigned = i == 0 ? q->x_unsigned : q->a_unsigned[i - 1];
    ql->Wq = malloc((size_t)L->n_out * (size_t)L->n_in);
    ql->bq = malloc((size_t)L->n_out * sizeof *ql->bq);
    ql->m = malloc((size_t)L->n_out * sizeof *ql->m);
    if (!ql->Wq || !ql->bq || !ql->m)
        return tmlp_fail(err, TMLP_ENOMEM, "export: no memory");
    for (int o = 0; o < L->n_out; o++) {
        const float *wr = L->W + (size_t)o * L->n_in;
        double mx = 0.0;
        for (int j = 0; j < L->n_in; j++) {
            double v = fabs((double)wr[j] * (i == 0 ? q->x_scale[j] : 1.0));
            mx = v > mx ? v : mx;
        }
        double sw = mx > 0.0 ? mx / 127.0 : 1.0, acc_scale = sw * ql->in_scale;
        for (int j = 0; j < L->n_in; j++)
            ql->Wq[(size_t)o * L->n_in + j] =
                (int8_t)round_i32((double)wr[j] * (i == 0 ? q->x_scale[j] : 1.0) / sw);
        double bq = L->b[o] / acc_scale;
        if (!(fabs(bq) < 1073741824.0))
            return tmlp_fail(err, TMLP_EINVAL, "layer %d, unit %d: the bias is %g times the "
                             "accumulator's step, too many for int32", i + 1, o, bq);
        /* the largest sum the int32 accumulator can meet: the bias plus n_in products of an
         * int8 weight (|w| <= 127) and an 8-bit input (|a| <= 255) */
        if (fabs(bq) + (double)L->n_in * 127.0 * 255.0 > 2147483647.0)
            return tmlp_fail(err, TMLP_EINVAL, "layer %d: %d inputs of 8 bits can overflow the "
                             "int32 accumulator (at most about %d inputs fit); export it as "
                             "float", i + 1, L->n_in, (int)((2147483647.0 - fabs(bq)) / 32385.0));
        ql->bq[o] = round_i32(bq);
        ql->m[o] = (float)acc_scale;
    }
    return TMLP_OK;
}

static void int_array(FILE *f, const char *type, const char *prefix, const char *what, int i,
                      const int32_t *v32, const int8_t *v8, size_t n)
{
    fprintf(f, "static const %s %s_%s%d[%zu] = {", type, prefix, what, i, n);
    for (size_t k = 0; k < n; k++) {
        fprintf(f, "%s%ld", k % (v8 ? 20 : 10) ? " " : "\n    ", v8 ? (long)v8[k] : (long)v32[k]);
        if (k + 1 < n)
            fputc(',', f);
    }
    fprintf(f, "\n};\n");
}

static const char *act_name(const export_layer *L) { return L->act->name; }
static int int_act(const export_layer *L)
{
    return !strcmp(act_name(L), "relu") || !strcmp(act_name(L), "identity");
}

/* The class tmlp_net_predict's rule picks from outputs z (n) after the loss's link. */
static int class_of(const export_model *m, float *z)
{
    tmlp_loss_link(m->loss, z, 1, m->n_out, z);
    int k = 0;
    if (m->n_out == 1)
        return z[0] > 0.5f;
    for (int j = 1; j < m->n_out; j++)
        k = z[j] > z[k] ? j : k;
    return k;
}

static float quant(float v, int uns)
{
    float lo = uns ? 0.0f : -127.0f, hi = uns ? 255.0f : 127.0f;
    v = v < lo ? lo : v > hi ? hi : v;
    return (float)(int32_t)(v + (v >= 0.0f ? 0.5f : -0.5f));
}

/* How many calibration rows get the same class from the int8 arithmetic the header does (the
 * library's activation functions in place of the header's copies) as from the float layers. */
static int agreement(const export_model *m, const export_q8 *q, const q8_layer *ql, int *agree,
                     tmlp_err *err)
{
    int w = m->n_in;
    for (int i = 0; i < m->n_layers; i++)
        w = m->L[i].n_out > w ? m->L[i].n_out : w;
    float *buf = malloc((size_t)w * 4 * sizeof *buf);
    if (!buf)
        return tmlp_fail(err, TMLP_ENOMEM, "export: no memory");
    *agree = 0;
    for (int r = 0; r < q->n_rows; r++) {
        const float *x = q->rows + (size_t)r * m->n_in;
        float *a = buf, *b = buf + w, *fa = buf + 2 * (size_t)w, *fb = buf + 3 * (size_t)w;
        const float *cur = x;
        for (int j = 0; j < m->n_in; j++)
            a[j] = quant(x[j] * (1.0f / q->x_scale[0]), q->x_unsigned);
        for (int i = 0; i < m->n_layers; i++) {
            const export_layer *L = &m->L[i];
            for (int o = 0; o < L->n_out; o++) {
                const int8_t *wq = ql[i].Wq + (size_t)o * L->n_in;
                const float *wf = L->W + (size_t)o * L->n_in;
                int32_t acc = ql[i].bq[o];
                float s = 0.0f;
                for (int j = 0; j < L->n_in; j++) {
                    acc += (int32_t)wq[j] * (int32_t)a[j];
                    s += wf[j] * cur[j];
                }
                if (!strcmp(L->act->name, "relu"))
                    acc = acc > 0 ? acc : 0;
                b[o] = (float)acc * ql[i].m[o];
                fa[o] = s + L->b[o];
            }
            if (strcmp(L->act->name, "relu") && strcmp(L->act->name, "identity"))
                L->act->forward(1, L->n_out, b, b, L->arg, L->param);
            L->act->forward(1, L->n_out, fa, fa, L->arg, L->param);
            if (i + 1 < m->n_layers)
                for (int o = 0; o < L->n_out; o++)
                    a[o] = quant(b[o] * (1.0f / q->a_scale[i]), q->a_unsigned[i]);
            float *t = fa; fa = fb; fb = t; /* fb: this layer's float output, next input */
            cur = fb;
        }
        *agree += class_of(m, b) == class_of(m, fb);
    }
    free(buf);
    return TMLP_OK;
}

int export_c_int8(FILE *f, const export_model *m, export_q8 *q, const export_info *info,
                  tmlp_err *err)
{
    const char *p = info->name;
    char up[64], libm[512];
    int i, rc = TMLP_OK, w = 1, q8_agree = 0;
    q8_layer ql[TMLP_MAX_LAYERS];
    memset(ql, 0, sizeof ql);
    for (i = 0; i < m->n_layers && !rc; i++)
        rc = quantise(&ql[i], m, q, i, err);
    if (rc || (rc = agreement(m, q, ql, &q8_agree, err)))
        goto done;
    q->agree = q8_agree;
    for (i = 0; p[i] && i < 63; i++)
        up[i] = (char)(p[i] >= 'a' && p[i] <= 'z' ? p[i] - 'a' + 'A' : p[i]);
    up[i] = '\0';
    size_t n_float = 0, bytes = 0, float_bytes = 0;
    for (i = 0; i < m->n_layers; i++) {
        const export_layer *L = &m->L[i];
        size_t per_unit = L->act->params == TMLP_ACT_PARAM_PER_UNIT ? (size_t)L->n_out : 0;
        bytes += (size_t)L->n_out * L->n_in + (size_t)L->n_out * (4 + 4) + per_unit * 4;
        float_bytes += ((size_t)L->n_out * (L->n_in + 1) + per_unit) * sizeof(float);
        w = L->n_out > w ? L->n_out : w;
        n_float += per_unit;
    }
    size_t ram = (size_t)m->n_in + (size_t)(m->n_layers > 2 ? 2 : m->n_layers - 1) * (size_t)w +
                 (size_t)w * sizeof(float);
    export_libm_note(m, libm, sizeof libm);
    fprintf(f, "/* %s.h: a trained tinymlp network as dependency-free C99, int8 weights.\n"
               " * Written by `tinymlp export --int8` (tinymlp %s); export the model again rather than\n"
               " * edit it.\n"
               " *\n"
               " * model file sha256: %s\n"
               " * architecture: %s; loss %s\n",
            p, TINYMLP_VERSION, info->sha256, m->arch, tmlp_loss_name(m->loss));
    export_folded_note(f, m);
    fprintf(f, " * quantised: per-output-channel symmetric int8 weights, int32 accumulators and biases;\n"
               " *   one input scale per layer, from %d calibration rows.\n",
            q->n_rows);
    fprintf(f, " *   on those rows the int8 classes equal the float layers' on %d (%.2f%%)\n",
            q8_agree, 100.0 * q8_agree / q->n_rows);
    for (i = 0; i < m->n_layers; i++)
        fprintf(f, " *   layer %d: %s input, %s\n", i + 1,
                (i == 0 ? q->x_unsigned : q->a_unsigned[i - 1]) ? "uint8 0..255" : "int8 -127..127",
                int_act(&m->L[i]) ? (strcmp(act_name(&m->L[i]), "relu") ? "no activation"
                                     : "relu on the int32 accumulator")
                                  : "its activation in float on the rescaled accumulator (exact formula)");
    fprintf(f, " * libm: %s\n"
               " * weights: %zu bytes (%.1f%% of the float header's %zu); RAM for the forward pass:\n"
               " *   %zu bytes on the stack, nothing written but out\n"
               " *\n"
               " * %s_predict(x, out): x holds %s_N_IN raw inputs in the units of the training data\n"
               " *   (`tinymlp predict` takes the same rows); out gets %s_N_OUT values, close to the\n"
               " *   ones `tinymlp predict --probs` prints. %s_classify(x): the class, by the same rule.\n"
               " */\n",
            libm, bytes, 100.0 * (double)bytes / (double)float_bytes, float_bytes, ram, p, up, up, p);
    fprintf(f, "#ifndef %s_H\n#define %s_H\n\n#include <stdint.h>\n", up, up);
    if (export_libm_mask(m))
        fprintf(f, "#include <math.h>\n");
    fprintf(f, "\n#define %s_N_IN %d\n#define %s_N_OUT %d\n#define %s_WEIGHT_BYTES %zu\n\n", up,
            m->n_in, up, m->n_out, up, bytes);
    for (i = 0; i < m->n_layers; i++) {
        const export_layer *L = &m->L[i];
        fprintf(f, "/* layer %d: %d -> %d */\n", i + 1, L->n_in, L->n_out);
        int_array(f, "int8_t", p, "w", i, NULL, ql[i].Wq, (size_t)L->n_out * L->n_in);
        int_array(f, "int32_t", p, "b", i, ql[i].bq, NULL, (size_t)L->n_out);
        export_float_array(f, p, "m", i, ql[i].m, (size_t)L->n_out);
        if (L->act->params == TMLP_ACT_PARAM_PER_UNIT)
            export_float_array(f, p, "a", i, L->param, (size_t)L->n_out);
    }
    fprintf(f, "\n/* v rounded half away from zero into [lo, hi] */\n"
               "static inline int32_t %s_quant(float v, float lo, float hi)\n{\n"
               "    v = v < lo ? lo : v > hi ? hi : v;\n"
               "    return (int32_t)(v + (v >= 0.0f ? 0.5f : -0.5f));\n}\n\n", p);
    export_act_helpers(f, m, p, 1);
    fprintf(f, "/* out[%s_N_OUT] for one row x[%s_N_IN] */\n"
               "static inline void %s_predict(const float *x, float *out)\n{\n"
               "    uint8_t qx[%d];   /* quantised inputs of each layer: qx, then qa, qb, qa, ... */\n",
            up, up, p, m->n_in);
    if (m->n_layers > 1)
        fprintf(f, "    uint8_t qa[%d];\n", w);
    if (m->n_layers > 2)
        fprintf(f, "    uint8_t qb[%d];\n", w);
    fprintf(f, "    float f[%d];\n    int i, j;\n", w);
    char xi[48];
    export_float_literal(xi, sizeof xi, 1.0f / q->x_scale[0]);
    fprintf(f, "    for (j = 0; j < %d; j++)\n        qx[j] = (uint8_t)%s_quant(x[j] * %s, %s, %s);\n",
            m->n_in, p, xi, q->x_unsigned ? "0.0f" : "-127.0f", q->x_unsigned ? "255.0f" : "127.0f");
    for (i = 0; i < m->n_layers; i++) {
        const export_layer *L = &m->L[i];
        const char *in = i == 0 ? "qx" : (i % 2 ? "qa" : "qb"), *outq = i % 2 ? "qb" : "qa";
        int uns = i == 0 ? q->x_unsigned : q->a_unsigned[i - 1];
        fprintf(f, "    for (i = 0; i < %d; i++) {   /* layer %d */\n"
                   "        const int8_t *w = %s_w%d + (long)i * %d;\n"
                   "        const %s *q = (const %s *)%s;\n"
                   "        int32_t acc = %s_b%d[i];\n"
                   "        for (j = 0; j < %d; j++)\n            acc += (int32_t)w[j] * q[j];\n",
                L->n_out, i + 1, p, i, L->n_in, uns ? "uint8_t" : "int8_t",
                uns ? "uint8_t" : "int8_t", in, p, i, L->n_in);
        if (!strcmp(act_name(L), "relu"))
            fprintf(f, "        acc = acc > 0 ? acc : 0;   /* relu, in integer */\n");
        fprintf(f, "        f[i] = (float)acc * %s_m%d[i];\n    }\n", p, i);
        if (!int_act(L))
            export_act_apply(f, m, i, p, "f");
        if (i + 1 < m->n_layers) {
            char inv_lit[48];
            export_float_literal(inv_lit, sizeof inv_lit, 1.0f / q->a_scale[i]);
            fprintf(f, "    for (i = 0; i < %d; i++)\n"
                       "        %s[i] = (uint8_t)%s_quant(f[i] * %s, %s, %s);\n",
                    L->n_out, outq, p, inv_lit, q->a_unsigned[i] ? "0.0f" : "-127.0f",
                    q->a_unsigned[i] ? "255.0f" : "127.0f");
        }
    }
    export_link_apply(f, m, "f");
    export_classify(f, m, p, up);
    fprintf(f, "\n#endif\n");
    (void)n_float;
    if (fflush(f) || ferror(f))
        rc = tmlp_fail(err, TMLP_EIO, "writing the header failed");
done:
    for (i = 0; i < m->n_layers; i++) {
        free(ql[i].Wq);
        free(ql[i].bq);
        free(ql[i].m);
    }
    return rc;
}
