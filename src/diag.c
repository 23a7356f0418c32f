/* diag.c: per-layer gradient and activation statistics, gathered by a training observer.
 *
 * The observer's on_batch runs after backward and before the optimizer step, so a layer view
 * holds this batch's U, A, dL/dZ and dW and the weights W the step is about to change. The
 * update a step made is measured at the next on_batch (or at on_epoch, for an epoch's last
 * step) against a copy of W taken the step before: one fused pass reads W, compares it with
 * the copy, sums ||W||² and refreshes the copy. Sums run in double, in eight independent
 * lanes so the compiler can vectorise them without reassociating anything. On MNIST
 * (784-128-64-10, batch 32, one thread) collecting adds about a quarter to an epoch, most of
 * it that pass over W; without a collector attached training pays nothing.
 *
 * Two sets of accumulators run side by side: one for the epoch, one for the current window of
 * cfg.every batches. Everything is allocated in tmlp_diag_new. Not here: file names, printing,
 * and what a report makes of the numbers (src/cli/report*.c). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "tinymlp/diag.h"
#include "hot.h"

enum { EPOCH = 0, WINDOW = 1 };

typedef struct sums {       /* one layer over one record's steps */
    double grad, dz, weight, update; /* sums of per-step norms and update ratios */
    long n_dz, n_update;    /* steps that had dL/dZ, steps whose update was measured */
    double u_sum, u_sq, a_sum, a_sq;
    long n_elems;
} sums;

typedef struct lstate {
    int n_in, n_out;
    const tmlp_act *act;
    int can_die, saturates;
    float *snap;            /* (n_out, n_in) W as the previous step found it */
    double snap_sq;         /* ||snap||² */
    double cur_weight;      /* ||W|| of the current step, until it is added */
    unsigned char *alive[2]; /* (n_out) per accumulator: output was nonzero at least once */
    long *n_sat[2];          /* (n_out) per accumulator: samples with |f'| < threshold */
    sums s[2];
} lstate;

typedef struct span {       /* what a record covers */
    int steps, first, last;
    long samples;
    double loss;
} span;

struct tmlp_diag {
    tmlp_diag_cfg cfg;
    tmlp_observer next;
    const tmlp_net *net;
    int n_layers, max_batch, max_units, max_act_params;
    lstate *L;
    float *ones, *deriv, *dparam; /* (max_batch * max_units), same, (max_act_params) */
    int have_snap;
    span sp[2];
    int seq;
    tmlp_diag_layer *out, *last_layers; /* (n_layers) each */
    tmlp_diag_record last;
    int have_last;
};

tmlp_diag_cfg tmlp_diag_defaults(void)
{
    tmlp_diag_cfg c = { .every = 0, .sat_threshold = 0.01f, .sat_fraction = 0.5f,
                        .on_record = NULL, .ctx = NULL };
    return c;
}

/* The passes below touch every weight of every step: built for the widest vectors the CPU
 * has where the compiler supports it. Each keeps eight independent lanes, so the result is the
 * same bits whatever the vector width. */

static double add_lanes(const double *lane, double tail)
{
    for (int j = 0; j < 8; j++)
        tail += lane[j];
    return tail;
}

/* Σ x² and (when sum is not NULL) Σ x over n floats, in double. */
TMLP_HOT static void sum_sq(const float *restrict x, size_t n, double *sum, double *sq)
{
    double s[8] = { 0 }, q[8] = { 0 }, ts = 0.0, tq = 0.0;
    size_t i = 0;
    for (; i + 8 <= n; i += 8)
        for (int j = 0; j < 8; j++) {
            double v = x[i + j];
            s[j] += v;
            q[j] += v * v;
        }
    for (; i < n; i++) {
        ts += x[i];
        tq += (double)x[i] * x[i];
    }
    if (sum)
        *sum = add_lanes(s, ts);
    *sq = add_lanes(q, tq);
}

/* Σ (W - snap)², Σ W², then snap = W. */
TMLP_HOT static void snap_pass(const float *restrict W, float *restrict snap, size_t n,
                               double *w_sq, double *d_sq)
{
    double w[8] = { 0 }, d[8] = { 0 }, tw = 0.0, td = 0.0;
    size_t i = 0;
    for (; i + 8 <= n; i += 8)
        for (int j = 0; j < 8; j++) {
            double v = W[i + j], e = v - snap[i + j];
            w[j] += v * v;
            d[j] += e * e;
            snap[i + j] = W[i + j];
        }
    for (; i < n; i++) {
        double v = W[i], e = v - snap[i];
        tw += v * v;
        td += e * e;
        snap[i] = W[i];
    }
    *w_sq = add_lanes(w, tw);
    *d_sq = add_lanes(d, td);
}

/* Σ (W - snap)². */
TMLP_HOT static double diff_pass(const float *restrict W, const float *restrict snap, size_t n)
{
    double d[8] = { 0 }, td = 0.0;
    size_t i = 0;
    for (; i + 8 <= n; i += 8)
        for (int j = 0; j < 8; j++) {
            double e = (double)W[i + j] - snap[i + j];
            d[j] += e * e;
        }
    for (; i < n; i++) {
        double e = (double)W[i] - snap[i];
        td += e * e;
    }
    return add_lanes(d, td);
}

void tmlp_diag_free(tmlp_diag *d)
{
    if (!d)
        return;
    for (int i = 0; d->L && i < d->n_layers; i++) {
        free(d->L[i].snap);
        for (int k = 0; k < 2; k++) {
            free(d->L[i].alive[k]);
            free(d->L[i].n_sat[k]);
        }
    }
    free(d->L);
    free(d->ones);
    free(d->deriv);
    free(d->dparam);
    free(d->out);
    free(d->last_layers);
    free(d);
}

static void clear(tmlp_diag *d, int k)
{
    for (int i = 0; i < d->n_layers; i++) {
        lstate *l = &d->L[i];
        memset(&l->s[k], 0, sizeof l->s[k]);
        memset(l->alive[k], 0, (size_t)l->n_out);
        memset(l->n_sat[k], 0, (size_t)l->n_out * sizeof *l->n_sat[k]);
    }
    memset(&d->sp[k], 0, sizeof d->sp[k]);
}

void tmlp_diag_reset(tmlp_diag *d)
{
    clear(d, EPOCH);
    clear(d, WINDOW);
    d->have_snap = 0;
    d->seq = 0;
    d->have_last = 0;
}

tmlp_diag *tmlp_diag_new(const tmlp_net *net, const tmlp_diag_cfg *cfg, tmlp_err *err)
{
    tmlp_diag_cfg c = cfg ? *cfg : tmlp_diag_defaults();
    if (!net) {
        tmlp_fail(err, TMLP_EINVAL, "diag: no net");
        return NULL;
    }
    if (c.every < 0 || !(c.sat_threshold >= 0.0f) || !(c.sat_fraction >= 0.0f && c.sat_fraction < 1.0f)) {
        tmlp_fail(err, TMLP_EINVAL, "diag: need every >= 0 (got %d), sat_threshold >= 0 (got %g) "
                  "and sat_fraction in [0, 1) (got %g)", c.every, (double)c.sat_threshold,
                  (double)c.sat_fraction);
        return NULL;
    }
    tmlp_diag *d = calloc(1, sizeof *d);
    if (!d)
        goto nomem;
    d->cfg = c;
    d->net = net;
    d->n_layers = tmlp_net_get_spec(net)->n_layers;
    d->max_batch = tmlp_net_max_batch(net);
    if (!(d->L = calloc((size_t)d->n_layers, sizeof *d->L)))
        goto nomem;
    for (int i = 0; i < d->n_layers; i++) {
        tmlp_layer_view v;
        if (tmlp_net_layer(net, i, &v, err) != TMLP_OK) {
            tmlp_diag_free(d);
            return NULL;
        }
        lstate *l = &d->L[i];
        l->n_in = v.n_in;
        l->n_out = v.n_out;
        l->act = v.act;
        l->can_die = (v.act->flags & TMLP_ACT_CAN_DIE) != 0;
        l->saturates = (v.act->flags & TMLP_ACT_SATURATES) && !(v.act->flags & TMLP_ACT_ROWWISE);
        /* The net already holds W of this size, so n_out * n_in fits a size_t. */
        if (!(l->snap = malloc((size_t)v.n_out * (size_t)v.n_in * sizeof *l->snap)))
            goto nomem;
        for (int k = 0; k < 2; k++)
            if (!(l->alive[k] = calloc((size_t)v.n_out, 1)) ||
                !(l->n_sat[k] = calloc((size_t)v.n_out, sizeof *l->n_sat[k])))
                goto nomem;
        if (v.n_out > d->max_units)
            d->max_units = v.n_out;
        if (v.n_act_params > d->max_act_params)
            d->max_act_params = v.n_act_params;
    }
    size_t block = (size_t)d->max_batch * (size_t)d->max_units;
    if (!(d->ones = malloc(block * sizeof *d->ones)) || !(d->deriv = malloc(block * sizeof *d->deriv)) ||
        !(d->dparam = calloc((size_t)d->max_act_params + 1, sizeof *d->dparam)) ||
        !(d->out = calloc((size_t)d->n_layers, sizeof *d->out)) ||
        !(d->last_layers = calloc((size_t)d->n_layers, sizeof *d->last_layers)))
        goto nomem;
    for (size_t i = 0; i < block; i++)
        d->ones[i] = 1.0f;
    return d;
nomem:
    tmlp_diag_free(d);
    tmlp_fail(err, TMLP_ENOMEM, "diag: no memory for the collector's buffers");
    return NULL;
}

/* Adds the current layer views of d->net (one batch) to both accumulators. */
static void add_batch(tmlp_diag *d, const tmlp_batch_info *b)
{
    for (int i = 0; i < d->n_layers; i++) {
        tmlp_layer_view v;
        if (tmlp_net_layer(d->net, i, &v, NULL) != TMLP_OK)
            return;
        lstate *l = &d->L[i];
        size_t nz = (size_t)v.batch * (size_t)v.n_out;
        double g, dz = 0.0, us = 0.0, uq = 0.0, as = 0.0, aq = 0.0;
        sum_sq(v.dW, (size_t)v.n_out * (size_t)v.n_in, NULL, &g);
        if (v.dz)
            sum_sq(v.dz, nz, NULL, &dz);
        if (v.u)
            sum_sq(v.u, nz, &us, &uq);
        if (v.a)
            sum_sq(v.a, nz, &as, &aq);
        for (int k = 0; k < 2; k++) {
            sums *s = &l->s[k];
            s->grad += sqrt(g);
            s->weight += l->cur_weight;
            if (v.dz) {
                s->dz += sqrt(dz);
                s->n_dz++;
            }
            s->u_sum += us;
            s->u_sq += uq;
            s->a_sum += as;
            s->a_sq += aq;
            s->n_elems += (long)nz;
        }
        if (l->can_die && v.a)
            for (int r = 0; r < v.batch; r++) {
                const float *a = v.a + (size_t)r * v.n_out;
                unsigned char *ae = l->alive[EPOCH], *aw = l->alive[WINDOW];
                for (int j = 0; j < v.n_out; j++) {
                    unsigned char on = a[j] != 0.0f;
                    ae[j] |= on;
                    aw[j] |= on;
                }
            }
        if (l->saturates && v.u && v.a) {
            /* f'(u) elementwise: the backward pass with dy = 1 */
            v.act->backward(v.batch, v.n_out, v.u, v.a, d->ones, d->deriv, v.act_arg,
                            v.act_param, v.act_param ? d->dparam : NULL);
            const float thr = d->cfg.sat_threshold;
            for (int r = 0; r < v.batch; r++) {
                const float *f = d->deriv + (size_t)r * v.n_out;
                for (int j = 0; j < v.n_out; j++)
                    if (fabsf(f[j]) < thr) {
                        l->n_sat[EPOCH][j]++;
                        l->n_sat[WINDOW][j]++;
                    }
            }
        }
    }
    tmlp_layer_view v0;
    int rows = tmlp_net_layer(d->net, 0, &v0, NULL) == TMLP_OK ? v0.batch : 0;
    for (int k = 0; k < 2; k++) {
        span *p = &d->sp[k];
        if (!p->steps++)
            p->first = b->batch;
        p->last = b->batch;
        p->loss += b->loss;
        p->samples += rows;
    }
}

/* Measures the update the optimizer made since the copy (when there is one), adds its ratio
 * to both accumulators, and, when refresh, takes a new copy and keeps ||W|| for this step. */
static void measure(tmlp_diag *d, int refresh)
{
    for (int i = 0; i < d->n_layers; i++) {
        tmlp_layer_view v;
        if (tmlp_net_layer(d->net, i, &v, NULL) != TMLP_OK)
            return;
        lstate *l = &d->L[i];
        size_t n = (size_t)v.n_out * (size_t)v.n_in;
        double w_sq = 0.0, d_sq = 0.0;
        if (refresh && d->have_snap) {
            snap_pass(v.W, l->snap, n, &w_sq, &d_sq);
        } else if (refresh) {
            sum_sq(v.W, n, NULL, &w_sq);
            memcpy(l->snap, v.W, n * sizeof *l->snap);
        } else if (d->have_snap) {
            d_sq = diff_pass(v.W, l->snap, n);
        }
        if (d->have_snap && l->snap_sq > 0.0)
            for (int k = 0; k < 2; k++) {
                l->s[k].update += sqrt(d_sq / l->snap_sq);
                l->s[k].n_update++;
            }
        if (refresh) {
            l->snap_sq = w_sq;
            l->cur_weight = sqrt(w_sq);
        }
    }
    d->have_snap = refresh;
}

/* Turns accumulator k into a record and hands it on; returns the callback's answer. */
static int emit(tmlp_diag *d, int k, int epoch, const tmlp_epoch_info *e)
{
    span *p = &d->sp[k];
    for (int i = 0; i < d->n_layers; i++) {
        lstate *l = &d->L[i];
        sums *s = &l->s[k];
        tmlp_diag_layer *o = &d->out[i];
        double n = p->steps > 0 ? p->steps : NAN, ne = s->n_elems > 0 ? (double)s->n_elems : NAN;
        o->units = l->n_out;
        o->act = l->act->name;
        o->grad_norm = s->grad / n;
        o->dz_norm = s->n_dz ? s->dz / (double)s->n_dz : NAN;
        o->weight_norm = s->weight / n;
        o->update_ratio = s->n_update ? s->update / (double)s->n_update : NAN;
        o->pre_mean = s->u_sum / ne;
        o->pre_std = sqrt(fmax(0.0, s->u_sq / ne - o->pre_mean * o->pre_mean));
        o->out_mean = s->a_sum / ne;
        o->out_std = sqrt(fmax(0.0, s->a_sq / ne - o->out_mean * o->out_mean));
        o->dead_frac = o->sat_frac = NAN;
        if (l->can_die) {
            int dead = 0;
            for (int j = 0; j < l->n_out; j++)
                dead += !l->alive[k][j];
            o->dead_frac = (double)dead / l->n_out;
        }
        if (l->saturates) {
            int sat = 0;
            double limit = (double)d->cfg.sat_fraction * (double)p->samples;
            for (int j = 0; j < l->n_out; j++)
                sat += (double)l->n_sat[k][j] > limit;
            o->sat_frac = (double)sat / l->n_out;
        }
    }
    double last = d->out[d->n_layers - 1].grad_norm;
    tmlp_diag_record r = {
        .seq = d->seq++, .epoch = epoch, .first_batch = p->first, .last_batch = p->last,
        .whole_epoch = k == EPOCH, .steps = p->steps, .samples = p->samples,
        .loss = p->steps ? p->loss / p->steps : NAN,
        .val_loss = e ? e->val_loss : NAN, .val_acc = e ? e->val_acc : NAN,
        .vanish_index = last > 0.0 ? d->out[0].grad_norm / last : NAN,
        .n_layers = d->n_layers, .layer = d->out,
    };
    clear(d, k);
    if (k == EPOCH) {
        memcpy(d->last_layers, d->out, (size_t)d->n_layers * sizeof *d->out);
        d->last = r;
        d->last.layer = d->last_layers;
        d->have_last = 1;
    }
    return d->cfg.on_record ? d->cfg.on_record(d->cfg.ctx, &r) : 0;
}

static int on_batch(void *ctx, const tmlp_batch_info *b)
{
    tmlp_diag *d = ctx;
    if (b->net == d->net) {
        measure(d, 1);
        if (d->cfg.every > 0 && d->sp[WINDOW].steps >= d->cfg.every &&
            emit(d, WINDOW, b->epoch, NULL))
            return 1;
        add_batch(d, b);
    }
    return d->next.on_batch ? d->next.on_batch(d->next.ctx, b) : 0;
}

static int on_epoch(void *ctx, const tmlp_epoch_info *e)
{
    tmlp_diag *d = ctx;
    if (e->net == d->net && d->sp[EPOCH].steps > 0) {
        if (d->have_snap)
            measure(d, 0);
        if (d->cfg.every > 0 && d->sp[WINDOW].steps > 0 && emit(d, WINDOW, e->epoch, NULL))
            return 1;
        if (emit(d, EPOCH, e->epoch, e))
            return 1;
    }
    return d->next.on_epoch ? d->next.on_epoch(d->next.ctx, e) : 0;
}

tmlp_observer tmlp_diag_observer(tmlp_diag *d, const tmlp_observer *next)
{
    d->next = next ? *next : (tmlp_observer){ 0 };
    return (tmlp_observer){ on_batch, on_epoch, d };
}

const tmlp_diag_record *tmlp_diag_last(const tmlp_diag *d)
{
    return d && d->have_last ? &d->last : NULL;
}

/* ---- CSV and JSON ---- */

static void num(FILE *f, int format, double v)
{
    if (isfinite(v))
        fprintf(f, "%.9g", v);
    else if (format == TMLP_DIAG_JSON)
        fputs("null", f);
    else if (!isnan(v))
        fputs(v > 0 ? "inf" : "-inf", f);
}

static int io_status(FILE *f, tmlp_err *err)
{
    return ferror(f) ? tmlp_fail(err, TMLP_EIO, "diag: writing the statistics failed") : TMLP_OK;
}

static const char *const layer_fields[] = { "grad_norm", "dz_norm", "weight_norm", "update_ratio",
                                            "pre_mean", "pre_std", "out_mean", "out_std",
                                            "dead_frac", "sat_frac" };
enum { N_LAYER_FIELDS = (int)(sizeof layer_fields / sizeof layer_fields[0]) };

static void layer_values(const tmlp_diag_layer *l, double *v)
{
    double t[N_LAYER_FIELDS] = { l->grad_norm, l->dz_norm, l->weight_norm, l->update_ratio,
                                 l->pre_mean, l->pre_std, l->out_mean, l->out_std,
                                 l->dead_frac, l->sat_frac };
    memcpy(v, t, sizeof t);
}

int tmlp_diag_write_begin(FILE *f, int format, tmlp_err *err)
{
    if (format == TMLP_DIAG_JSON) {
        fputs("[\n", f);
    } else {
        fputs("kind,epoch,first_batch,last_batch,steps,samples,loss,val_loss,val_acc,"
              "vanish_index,layer,units,act", f);
        for (int i = 0; i < N_LAYER_FIELDS; i++)
            fprintf(f, ",%s", layer_fields[i]);
        fputc('\n', f);
    }
    return io_status(f, err);
}

int tmlp_diag_write(FILE *f, int format, const tmlp_diag_record *r, int index, tmlp_err *err)
{
    const char *kind = r->whole_epoch ? "epoch" : "window";
    double v[N_LAYER_FIELDS];
    if (format == TMLP_DIAG_JSON) {
        fprintf(f, "%s{\"kind\":\"%s\",\"epoch\":%d,\"first_batch\":%d,\"last_batch\":%d,"
                "\"steps\":%d,\"samples\":%ld,\"loss\":", index ? ",\n" : "", kind, r->epoch,
                r->first_batch, r->last_batch, r->steps, r->samples);
        num(f, format, r->loss);
        fputs(",\"val_loss\":", f);
        num(f, format, r->val_loss);
        fputs(",\"val_acc\":", f);
        num(f, format, r->val_acc);
        fputs(",\"vanish_index\":", f);
        num(f, format, r->vanish_index);
        fputs(",\"layers\":[", f);
        for (int i = 0; i < r->n_layers; i++) {
            const tmlp_diag_layer *l = &r->layer[i];
            fprintf(f, "%s{\"layer\":%d,\"units\":%d,\"act\":\"%s\"", i ? "," : "", i + 1, l->units,
                    l->act);
            layer_values(l, v);
            for (int j = 0; j < N_LAYER_FIELDS; j++) {
                fprintf(f, ",\"%s\":", layer_fields[j]);
                num(f, format, v[j]);
            }
            fputc('}', f);
        }
        fputs("]}", f);
        return io_status(f, err);
    }
    for (int i = 0; i < r->n_layers; i++) {
        const tmlp_diag_layer *l = &r->layer[i];
        fprintf(f, "%s,%d,%d,%d,%d,%ld,", kind, r->epoch, r->first_batch, r->last_batch, r->steps,
                r->samples);
        num(f, format, r->loss);
        fputc(',', f);
        num(f, format, r->val_loss);
        fputc(',', f);
        num(f, format, r->val_acc);
        fputc(',', f);
        num(f, format, r->vanish_index);
        fprintf(f, ",%d,%d,%s", i + 1, l->units, l->act);
        layer_values(l, v);
        for (int j = 0; j < N_LAYER_FIELDS; j++) {
            fputc(',', f);
            num(f, format, v[j]);
        }
        fputc('\n', f);
    }
    return io_status(f, err);
}

int tmlp_diag_write_end(FILE *f, int format, tmlp_err *err)
{
    if (format == TMLP_DIAG_JSON)
        fputs("\n]\n", f);
    return io_status(f, err);
}
