/* report.c: a compare study as CSV files and a Markdown summary.
 *
 * results.csv holds every measured number except timings, printed with 9 significant digits,
 * so the same study run twice gives the same bytes; timings go to timing.csv. The summary
 * reduces each activation's seeds to one row and says in words what the vanishing index
 * shows. The HTML page is report_html.c. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "atomic.h"
#include "report.h"

static void num(FILE *f, double v)
{
    if (!isnan(v))
        fprintf(f, "%.9g", v);
}

/* Each file is written beside its final name and renamed over it when complete (atomic.h):
 * a study stopped half-way leaves the previous report's files whole, never half of one. */
static FILE *open_in(cli_out *o, const char *dir, const char *name, tmlp_err *err)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return cli_out_open(o, path, name, err) == TMLP_OK ? o->f : NULL;
}

static unsigned long long seed_of(const cmp_study *s, int j)
{
    return (unsigned long long)(s->seed0 + (uint64_t)(j % s->n_seeds));
}

/* A CSV field, quoted when it holds a comma, quote or line break. */
static void csv_field(FILE *f, const char *t)
{
    if (!strpbrk(t, ",\"\n\r")) {
        fputs(t, f);
        return;
    }
    fputc('"', f);
    for (; *t; t++) {
        if (*t == '"')
            fputc('"', f);
        fputc(*t, f);
    }
    fputc('"', f);
}

/* The swept settings' values of run j's configuration, then its seed: "relu,1" */
static void run_keys(FILE *f, const cmp_study *s, int j)
{
    const cmp_cfg *c = &s->cfg[j / s->n_seeds];
    for (int k = 0; k < s->n_keys; k++) {
        csv_field(f, c->value[k]);
        fputc(',', f);
    }
    fprintf(f, "%llu", seed_of(s, j));
}

static void key_header(FILE *f, const cmp_study *s)
{
    for (int k = 0; k < s->n_keys; k++)
        fprintf(f, "%s,", s->key[k]);
    fputs("seed", f);
}

void report_layer_act(const cmp_study *s, int c, int i, char *buf, size_t size)
{
    const cmp_cfg *cf = &s->cfg[c];
    const tmlp_layer_spec *l = &cf->spec.layer[i];
    if (i == cf->spec.n_layers - 1 || !l->act)
        snprintf(buf, size, "identity");
    else if (cf->act)
        snprintf(buf, size, "%s", cf->name);
    else
        tmlp_act_format(l->act, l->act_arg, buf, size);
}

int report_write_csv(const cmp_study *s, const char *dir, tmlp_err *err)
{
    cli_out o;
    FILE *f = open_in(&o, dir, "results.csv", err);
    if (!f)
        return TMLP_EIO;
    /* eval: the test set, or (as train --json names it) the whole training set after the epoch */
    const char *ev = strcmp(s->eval_name, "test") ? "final_train" : "test";
    key_header(f, s);
    fprintf(f, ",epoch,train_loss,train_acc,val_loss,val_acc,%s_loss,%s_acc,"
            "vanish_index,dead_frac,sat_frac,grad_norm_first,grad_norm_last\n", ev, ev);
    for (int j = 0; j < s->n_cfg * s->n_seeds; j++) {
        const cmp_run *r = &s->run[j];
        int nl = cmp_layers(s, j / s->n_seeds);
        for (int e = 0; e < r->n_epochs; e++) {
            const cmp_epoch *c = &r->epoch[e];
            const tmlp_diag_layer *L = r->layer + (size_t)e * nl;
            double v[] = { c->train_loss, c->train_acc, c->val_loss, c->val_acc, c->eval_loss,
                           c->eval_acc, c->vanish, c->dead, c->sat, L[0].grad_norm,
                           L[nl - 1].grad_norm };
            run_keys(f, s, j);
            fprintf(f, ",%d", e + 1);
            for (size_t k = 0; k < sizeof v / sizeof v[0]; k++) {
                fputc(',', f);
                num(f, v[k]);
            }
            fputc('\n', f);
        }
    }
    int rc = cli_out_commit(&o, err);
    if (rc || !(f = open_in(&o, dir, "layers.csv", err)))
        return rc ? rc : TMLP_EIO;
    key_header(f, s);
    fprintf(f, ",epoch,layer,units,layer_act,grad_norm,dz_norm,weight_norm,update_ratio,"
            "pre_mean,pre_std,out_mean,out_std,dead_frac,sat_frac\n");
    for (int j = 0; j < s->n_cfg * s->n_seeds; j++) {
        const cmp_run *r = &s->run[j];
        int nl = cmp_layers(s, j / s->n_seeds);
        for (int e = 0; e < r->n_epochs; e++)
            for (int i = 0; i < nl; i++) {
                const tmlp_diag_layer *l = &r->layer[(size_t)e * nl + i];
                double v[] = { l->grad_norm, l->dz_norm, l->weight_norm, l->update_ratio,
                               l->pre_mean, l->pre_std, l->out_mean, l->out_std, l->dead_frac,
                               l->sat_frac };
                char act[CMP_NAME];
                report_layer_act(s, j / s->n_seeds, i, act, sizeof act);
                run_keys(f, s, j);
                fprintf(f, ",%d,%d,%d,", e + 1, i + 1, l->units);
                csv_field(f, act);
                for (size_t k = 0; k < sizeof v / sizeof v[0]; k++) {
                    fputc(',', f);
                    num(f, v[k]);
                }
                fputc('\n', f);
            }
    }
    if ((rc = cli_out_commit(&o, err)) || !(f = open_in(&o, dir, "timing.csv", err)))
        return rc ? rc : TMLP_EIO;
    key_header(f, s);
    fputs(",epoch,seconds\n", f);
    for (int j = 0; j < s->n_cfg * s->n_seeds; j++)
        for (int e = 0; e < s->run[j].n_epochs; e++) {
            run_keys(f, s, j);
            fprintf(f, ",%d,%.4f\n", e + 1, s->run[j].epoch[e].seconds);
        }
    return cli_out_commit(&o, err);
}

void report_summarise(const cmp_study *s, cmp_row *rows)
{
    for (int a = 0; a < s->n_cfg; a++) {
        cmp_row *w = &rows[a];
        memset(w, 0, sizeof *w);
        double acc2 = 0, to = 0, dead = 0, sat = 0, lv = 0, lv1 = 0, sec = 0;
        int n_dead = 0, n_sat = 0, n_v = 0, n_v1 = 0, n_sec = 0, zero = 0, zero1 = 0;
        for (int k = 0; k < s->n_seeds; k++) {
            const cmp_run *r = &s->run[a * s->n_seeds + k];
            if (r->status != TMLP_OK || r->n_epochs < 1)
                continue;
            const cmp_epoch *e = &r->epoch[r->n_epochs - 1];
            w->n_ok++;
            w->acc_mean += e->eval_acc;
            acc2 += e->eval_acc * e->eval_acc;
            w->loss_mean += e->train_loss;
            for (int i = 0; i < r->n_epochs; i++) {
                double m = s->n_val ? r->epoch[i].val_acc : r->epoch[i].eval_acc;
                if (m >= s->target) {
                    to += i + 1;
                    w->n_reached++;
                    break;
                }
            }
            for (int i = 0; i < r->n_epochs; i++, n_sec++)
                sec += r->epoch[i].seconds;
            if (!isnan(e->dead))
                dead += e->dead, n_dead++;
            if (!isnan(e->sat))
                sat += e->sat, n_sat++;
            if (e->vanish > 0 && isfinite(e->vanish))
                lv += log(e->vanish), n_v++;
            zero |= e->vanish == 0; /* no gradient reached the first layer at all */
            if (r->epoch[0].vanish > 0 && isfinite(r->epoch[0].vanish))
                lv1 += log(r->epoch[0].vanish), n_v1++;
            zero1 |= r->epoch[0].vanish == 0;
        }
        double n = w->n_ok;
        w->acc_mean = n ? w->acc_mean / n : NAN;
        w->acc_std = n > 1 ? sqrt(fmax(0.0, (acc2 - n * w->acc_mean * w->acc_mean) / (n - 1))) : 0.0;
        w->loss_mean = n ? w->loss_mean / n : NAN;
        w->to_target = w->n_reached ? to / w->n_reached : NAN;
        w->sec_per_epoch = n_sec ? sec / n_sec : NAN;
        w->dead = n_dead ? dead / n_dead : NAN;
        w->sat = n_sat ? sat / n_sat : NAN;
        w->vanish = zero ? 0.0 : n_v ? exp(lv / n_v) : NAN;
        w->vanish_first = zero1 ? 0.0 : n_v1 ? exp(lv1 / n_v1) : NAN;
    }
}

/* "12.3%" or "—" */
static void pct(FILE *f, double v)
{
    if (isnan(v))
        fputs("—", f);
    else
        fprintf(f, "%.1f%%", 100.0 * v);
}

/* A ratio in words: "37", "4,200", "3.1e+06". */
static void times(char *buf, size_t size, double r)
{
    if (r < 1e6) {
        long v = lround(r);
        if (v >= 1000)
            snprintf(buf, size, "%ld,%03ld", v / 1000, v % 1000);
        else
            snprintf(buf, size, "%ld", v);
    } else {
        snprintf(buf, size, "%.1e", r);
    }
}

void report_vanishing_note(const cmp_study *s, const cmp_row *rows, char *buf, size_t size)
{
    buf[0] = '\0';
    int best = -1;
    for (int a = 0; a < s->n_cfg; a++)
        if (!isnan(rows[a].vanish) && (best < 0 || rows[a].vanish > rows[best].vanish))
            best = a;
    int n_valid = 0;
    for (int a = 0; a < s->n_cfg; a++)
        n_valid += !isnan(rows[a].vanish);
    if (best < 0 || n_valid < 2 || !(rows[best].vanish > 0))
        return;
    size_t used = 0;
    int any = 0;
    for (int a = 0; a < s->n_cfg && used < size; a++) {
        if (a == best || isnan(rows[a].vanish) || rows[a].vanish * 100.0 > rows[best].vanish)
            continue;
        char t[32];
        if (rows[a].vanish == 0) {
            used += (size_t)snprintf(buf + used, size - used, "%sno gradient reaches %s's first "
                                     "layer at all (first-to-last gradient ratio 0; %s's is %.2g).",
                                     any ? " " : "", s->cfg[a].name, s->cfg[best].name, rows[best].vanish);
            any = 1;
            continue;
        }
        times(t, sizeof t, rows[best].vanish / rows[a].vanish);
        used += (size_t)snprintf(buf + used, size - used,
                                 "%s%s's first-to-last gradient ratio is %.2g, %s× smaller than "
                                 "%s's (%.2g): its first layers receive almost no gradient, "
                                 "the vanishing-gradient problem.", any ? " " : "",
                                 s->cfg[a].name, rows[a].vanish, t, s->cfg[best].name, rows[best].vanish);
        any = 1;
    }
    if (!any)
        snprintf(buf, size, "No %s's first-to-last gradient ratio is 100× or more below "
                 "the largest (%s's, %.2g): no vanishing gradients to speak of at this depth.",
                 s->cfg[0].act ? "activation" : "configuration", s->cfg[best].name, rows[best].vanish);
}

void report_summary_md(FILE *f, const cmp_study *s, const cmp_row *rows)
{
    fprintf(f, "| %s | init | %s acc (mean ± std) | final loss | epochs to %g%% %s | "
            "s/epoch | dead | saturated | vanishing index |\n",
            s->cfg[0].act ? "activation" : "configuration", s->eval_name, 100.0 * s->target, s->n_val ? "val" : s->eval_name);
    fprintf(f, "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n");
    for (int a = 0; a < s->n_cfg; a++) {
        const cmp_row *w = &rows[a];
        fprintf(f, "| %s | %s | ", s->cfg[a].name, s->cfg[a].init_name);
        if (w->n_ok > 1)
            fprintf(f, "%.2f%% ± %.2f | %.4f | ", 100.0 * w->acc_mean, 100.0 * w->acc_std, w->loss_mean);
        else if (w->n_ok)
            fprintf(f, "%.2f%% | %.4f | ", 100.0 * w->acc_mean, w->loss_mean);
        else
            fprintf(f, "failed | — | ");
        if (w->n_reached == 0)
            fputs("—", f);
        else if (w->n_reached < w->n_ok)
            fprintf(f, "%.1f (%d of %d seeds)", w->to_target, w->n_reached, w->n_ok);
        else
            fprintf(f, "%.1f", w->to_target);
        if (isnan(w->sec_per_epoch))
            fputs(" | — | ", f);
        else
            fprintf(f, " | %.2f | ", w->sec_per_epoch);
        pct(f, w->dead);
        fputs(" | ", f);
        pct(f, w->sat);
        if (isnan(w->vanish))
            fputs(" | — |\n", f);
        else
            fprintf(f, " | %.3g |\n", w->vanish);
    }
}

void report_samples(char *buf, size_t size, const cmp_study *s)
{
    if (strcmp(s->eval_name, "test"))
        snprintf(buf, size, "%d training samples and no test set: accuracy is measured on the "
                 "training set%s", s->n_train, s->n_val ? "" : ", and there is no validation set");
    else
        snprintf(buf, size, "%d training, %d validation and %d test samples", s->n_train,
                 s->n_val, s->n_eval);
    if (s->n_val && strcmp(s->eval_name, "test"))
        snprintf(buf + strlen(buf), size - strlen(buf), " (%d validation samples held out)", s->n_val);
}

void report_setup_md(FILE *f, const cmp_study *s)
{
    char samples[256];
    report_samples(samples, sizeof samples, s);
    if (s->cfg[0].act) { /* compare: one shape, the activation varies */
        fprintf(f, "Network %d", s->n_in);
        for (int i = 0; i < s->n_layers; i++)
            fprintf(f, "-%d", s->width[i]);
        fprintf(f, " (%s), %s lr %g with a %s schedule, batch %d, %d epochs, seeds %llu..%llu. "
                "%s%s.\n\n", s->loss, s->opt, s->lr, s->schedule, s->batch, s->epochs,
                (unsigned long long)s->seed0, (unsigned long long)(s->seed0 + (uint64_t)s->n_seeds - 1),
                samples, s->standardize ? ", inputs standardised" : "");
        fprintf(f, "Every activation's run with seed k draws its initial weights from the same seed k "
                "and sees the same batch order; each activation uses the initializer it needs "
                "(column *init*: He for the ReLU family, LeCun normal for selu, Glorot otherwise), "
                "so the initial weights themselves differ between activations.\n\n");
        return;
    }
    fprintf(f, "%d configurations (", s->n_cfg);
    for (int k = 0; k < s->n_keys; k++)
        fprintf(f, "%s%s", k ? " × " : "", s->key[k]);
    fprintf(f, ") × %d seed%s (%llu..%llu) = %d runs. %s%s.\n\n", s->n_seeds, s->n_seeds > 1 ? "s" : "",
            (unsigned long long)s->seed0, (unsigned long long)(s->seed0 + (uint64_t)s->n_seeds - 1),
            s->n_cfg * s->n_seeds, samples, s->standardize ? ", inputs standardised" : "");
    fprintf(f, "Every configuration's run with seed k draws its initial weights from the same "
            "seed k and sees the same batch order (a paired design: the seeds' luck is shared, so "
            "the comparisons below are paired by seed). Anything not swept is as `tinymlp train` "
            "would set it with the same flags.\n\n");
}

int report_write_summary(const cmp_study *s, const char *dir, tmlp_err *err)
{
    cli_out o;
    FILE *f = open_in(&o, dir, "summary.md", err);
    if (!f)
        return TMLP_EIO;
    static cmp_row rows[CMP_MAX_CFG];
    cmp_verdict v;
    report_summarise(s, rows);
    report_rank(s, rows, &v);
    fprintf(f, "# %s on %s\n\n", s->title, s->data);
    fprintf(f, "`%s`\n\n", s->command);
    report_setup_md(f, s);
    report_summary_md(f, s, rows);
    report_verdict_md(f, s, rows, &v);
    fprintf(f, "\nColumns: *%s acc* after the last epoch, mean ± sample standard deviation over "
            "seeds; *final loss* the last epoch's training loss; *epochs to %g%%* the first epoch "
            "whose %s accuracy reached it (mean over the seeds that did; — if none did); "
            "*s/epoch* training time on one thread, without the statistics' own cost; *dead* the "
            "hidden units of relu-like layers that output 0 for every sample of the last epoch; "
            "*saturated* the hidden units of sigmoid-like layers with |f'| < 0.01 on most "
            "samples; *vanishing index* the first layer's weight-gradient norm over the last "
            "layer's in the last epoch (geometric mean over seeds): far below 1, the first layers "
            "hardly learn. Charts: report.html. Every number: results.csv, layers.csv.\n",
            s->eval_name, 100.0 * s->target, s->n_val ? "validation" : s->eval_name);
    if (s->ranks > 1)
        fprintf(f, "\nWall time %.1f s on %d MPI ranks", s->wall_seconds, s->ranks);
    else
        fprintf(f, "\nWall time %.1f s with %d jobs", s->wall_seconds, s->jobs);
    if (s->n_resumed)
        fprintf(f, "; %d of the %d runs were found finished in the report folder and not run "
                "again", s->n_resumed, s->n_cfg * s->n_seeds);
    fputs(".\n", f);
    return cli_out_commit(&o, err);
}
