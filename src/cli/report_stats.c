/* report_stats.c: which configuration is best, and which cannot be told apart from it.
 *
 * The best configuration is the one with the highest mean final validation accuracy (the
 * training-set accuracy when there is no validation set, and the summary says so): the test
 * set never chooses. Every other configuration is compared with the best over the seeds both
 * finished, by the paired t-test on that same metric (and the Wilcoxon signed-rank test too
 * from 6 seeds on), with Holm's correction across the comparisons; one whose corrected t-test
 * p-value is 0.05 or more is "tied with the best". The smallest difference the seeds can
 * resolve is the 95% half-width of a paired difference, from the pooled spread of the
 * differences to the best. Formulas: stats.c; the reasoning: docs/sweep.md. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

#include "report.h"
#include "stats.h"

static int finished(const cmp_run *r)
{
    return r->status == TMLP_OK && r->n_epochs > 0;
}

static double sel_value(const cmp_study *s, const cmp_run *r)
{
    const cmp_epoch *e = &r->epoch[r->n_epochs - 1];
    return s->n_val ? e->val_acc : e->eval_acc;
}

void report_rank(const cmp_study *s, cmp_row *rows, cmp_verdict *v)
{
    int S = s->n_seeds;
    double *x = malloc(sizeof(double) * (size_t)(4 * S + 2 * s->n_cfg) + 1);
    *v = (cmp_verdict){ .best = -1, .resolvable = NAN, .wilcoxon = S >= 6,
                        .metric = s->n_val ? "validation accuracy" : "training accuracy" };
    if (!x)
        return;
    double *y = x + S, *a = y + S, *b = a + S, *pt = b + S, *pw = pt + s->n_cfg;
    for (int c = 0; c < s->n_cfg; c++) {
        cmp_row *w = &rows[c];
        int n = 0, m = 0;
        for (int k = 0; k < S; k++) {
            const cmp_run *r = &s->run[c * S + k];
            if (!finished(r))
                continue;
            x[n++] = sel_value(s, r);
            y[m++] = r->epoch[r->n_epochs - 1].eval_acc;
        }
        w->sel_mean = st_mean(x, n);
        w->sel_ci = st_ci95_half(x, n);
        w->sel_sd = st_sd(x, n);
        w->acc_ci = st_ci95_half(y, m);
        w->rank = 0;
        w->n_pairs = 0;
        w->p_t = w->p_w = w->sd_diff = NAN;
        w->tied = 0;
        if (n && !isnan(w->sel_mean) && (v->best < 0 || w->sel_mean > rows[v->best].sel_mean))
            v->best = c;
    }
    if (v->best < 0) {
        free(x);
        return;
    }
    /* ranks: 1 + the number of configurations with a higher mean (ties share a rank) */
    for (int c = 0; c < s->n_cfg; c++) {
        if (isnan(rows[c].sel_mean))
            continue;
        rows[c].rank = 1;
        for (int d = 0; d < s->n_cfg; d++)
            rows[c].rank += !isnan(rows[d].sel_mean) && rows[d].sel_mean > rows[c].sel_mean;
    }
    double pooled = 0;
    int n_pooled = 0, n_min = 0;
    for (int c = 0; c < s->n_cfg; c++) {
        pt[c] = pw[c] = NAN;
        if (c == v->best || isnan(rows[c].sel_mean))
            continue;
        int n = 0;
        for (int k = 0; k < S; k++) {
            const cmp_run *r = &s->run[c * S + k], *rb = &s->run[v->best * S + k];
            if (finished(r) && finished(rb)) {
                a[n] = sel_value(s, rb);
                b[n] = sel_value(s, r);
                x[n] = a[n] - b[n];
                n++;
            }
        }
        rows[c].n_pairs = n;
        if (n < 2)
            continue;
        pt[c] = st_ttest_paired(a, b, n, NULL);
        if (v->wilcoxon)
            pw[c] = st_wilcoxon(a, b, n, NULL);
        rows[c].sd_diff = st_sd(x, n);
        pooled += rows[c].sd_diff * rows[c].sd_diff;
        n_pooled++;
        n_min = n_min && n_min < n ? n_min : n;
        v->n_tests++;
    }
    st_holm(pt, s->n_cfg, pt);
    st_holm(pw, s->n_cfg, pw);
    for (int c = 0; c < s->n_cfg; c++) {
        rows[c].p_t = pt[c];
        rows[c].p_w = pw[c];
        rows[c].tied = c == v->best || (!isnan(pt[c]) && pt[c] >= 0.05);
    }
    rows[v->best].n_pairs = rows[v->best].n_ok;
    if (n_pooled)
        v->resolvable = st_resolvable(sqrt(pooled / n_pooled), n_min);
    free(x);
}

/* "97.61% [97.50, 97.72]" or "97.61%" (one seed) or "—" */
static void ci_text(char *buf, size_t size, double mean, double half)
{
    if (isnan(mean))
        snprintf(buf, size, "—");
    else if (isnan(half))
        snprintf(buf, size, "%.2f%%", 100.0 * mean);
    else
        snprintf(buf, size, "%.2f%% [%.2f, %.2f]", 100.0 * mean, 100.0 * (mean - half),
                 100.0 * (mean + half));
}

static void p_text(char *buf, size_t size, double p)
{
    if (isnan(p))
        snprintf(buf, size, "—");
    else if (p < 0.001)
        snprintf(buf, size, "< 0.001");
    else
        snprintf(buf, size, "%.3f", p);
}

static const char *verdict_word(const cmp_row *w, const cmp_verdict *v, int c, int n_seeds)
{
    if (c == v->best)
        return "**best**";
    if (!w->rank)
        return "failed";
    if (isnan(w->p_t))
        return n_seeds < 2 ? "untested (1 seed)" : "untested (too few paired seeds)";
    return w->tied ? "tied with the best" : "worse";
}

static void ranking_md(FILE *f, const cmp_study *s, const cmp_row *rows, const cmp_verdict *v);

void report_verdict_md(FILE *f, const cmp_study *s, const cmp_row *rows, const cmp_verdict *v)
{
    char note[4096];
    ranking_md(f, s, rows, v);
    report_vanishing_note(s, rows, note, sizeof note);
    if (note[0])
        fprintf(f, "\n**Vanishing gradients:** %s\n", note);
    for (int j = 0; j < s->n_cfg * s->n_seeds; j++)
        if (s->run[j].status != TMLP_OK)
            fprintf(f, "\n**Run stopped:** %s, seed %llu, after %d epochs: %s\n",
                    s->cfg[j / s->n_seeds].name, (unsigned long long)(s->seed0 + (uint64_t)(j % s->n_seeds)),
                    s->run[j].n_epochs, s->run[j].msg);
}

static void ranking_md(FILE *f, const cmp_study *s, const cmp_row *rows, const cmp_verdict *v)
{
    char t1[64], t2[64], t3[32], t4[32];
    fprintf(f, "\n## Ranking\n\nChosen on the final %s (never on the %s set); every other "
            "configuration compared with the best over the same seeds.\n\n", v->metric,
            strcmp(s->eval_name, "test") ? "evaluation" : "test");
    fprintf(f, "| rank | configuration | %s (mean [95%% CI]) | %s acc (mean [95%% CI]) | "
            "p, paired t (Holm) |%s verdict |\n", v->metric, s->eval_name,
            v->wilcoxon ? " p, Wilcoxon (Holm) |" : "");
    fprintf(f, "| ---: | --- | ---: | ---: | ---: |%s --- |\n", v->wilcoxon ? " ---: |" : "");
    for (int r = 1; r <= s->n_cfg; r++) /* in rank order; failed configurations last */
        for (int c = 0; c < s->n_cfg; c++) {
            const cmp_row *w = &rows[c];
            if (w->rank != r)
                continue;
            ci_text(t1, sizeof t1, w->sel_mean, w->sel_ci);
            ci_text(t2, sizeof t2, w->acc_mean, w->acc_ci);
            p_text(t3, sizeof t3, w->p_t);
            p_text(t4, sizeof t4, w->p_w);
            fprintf(f, "| %d | %s | %s | %s | %s |", r, s->cfg[c].name, t1, t2, t3);
            if (v->wilcoxon)
                fprintf(f, " %s |", t4);
            fprintf(f, " %s |\n", verdict_word(w, v, c, s->n_seeds));
        }
    for (int c = 0; c < s->n_cfg; c++)
        if (!rows[c].rank)
            fprintf(f, "| — | %s | — | — | — |%s failed |\n", s->cfg[c].name, v->wilcoxon ? " — |" : "");
    if (v->best < 0) {
        fputs("\n**No run finished:** nothing to rank.\n", f);
        return;
    }
    const cmp_row *b = &rows[v->best];
    ci_text(t1, sizeof t1, b->sel_mean, b->sel_ci);
    ci_text(t2, sizeof t2, b->acc_mean, b->acc_ci);
    fprintf(f, "\n**Best on %s:** %s, %s (%s accuracy %s).\n", v->metric, s->cfg[v->best].name,
            t1, s->eval_name, t2);
    if (s->n_seeds < 2) {
        fputs("\n**What the seeds resolve:** with 1 seed, nothing: there is no spread to "
              "compare a difference with, so no configuration can be called better or tied. "
              "Run 3 or more seeds (--seeds).\n", f);
        return;
    }
    int n_tied = 0, n_worse = 0;
    for (int c = 0; c < s->n_cfg; c++)
        if (c != v->best && rows[c].rank) {
            n_tied += rows[c].tied;
            n_worse += !rows[c].tied && !isnan(rows[c].p_t);
        }
    fprintf(f, "\n**Tied with the best** (not significantly worse: paired t-test over the seeds, "
            "Holm-corrected across %d comparison%s, 5%% level): ", v->n_tests, v->n_tests == 1 ? "" : "s");
    if (!n_tied)
        fputs("none", f);
    for (int c = 0, k = 0; c < s->n_cfg; c++)
        if (c != v->best && rows[c].tied)
            fprintf(f, "%s%s", k++ ? ", " : "", s->cfg[c].name);
    fputs(".", f);
    if (n_worse) {
        fputs(" **Worse:** ", f);
        for (int c = 0, k = 0; c < s->n_cfg; c++)
            if (c != v->best && rows[c].rank && !rows[c].tied && !isnan(rows[c].p_t))
                fprintf(f, "%s%s", k++ ? ", " : "", s->cfg[c].name);
        fputs(".", f);
    }
    fputc('\n', f);
    if (v->wilcoxon) {
        int disagree = 0;
        for (int c = 0; c < s->n_cfg; c++)
            if (c != v->best && !isnan(rows[c].p_w) && !isnan(rows[c].p_t) &&
                (rows[c].p_w >= 0.05) != (rows[c].p_t >= 0.05))
                disagree++;
        if (disagree)
            fprintf(f, "\nThe Wilcoxon signed-rank test disagrees with the t-test on %d "
                    "configuration%s: read those verdicts as uncertain.\n", disagree, disagree == 1 ? "" : "s");
        else
            fputs("\nThe Wilcoxon signed-rank test agrees with every verdict.\n", f);
    }
    if (v->resolvable == 0)
        fprintf(f, "\n**What the seeds resolve:** little: with %d seeds, every configuration's "
                "differences to the best were the same on each seed, so the paired t-test has no "
                "spread to weigh them against (p is 0 or 1). Run more seeds.\n", s->n_seeds);
    else if (!isnan(v->resolvable))
        fprintf(f, "\n**What the seeds resolve:** with %d seeds, differences in %s below %.2f "
                "points are not resolvable (the 95%% half-width of a paired difference, from the "
                "spread of the differences to the best%s). More seeds narrow it by about "
                "1/sqrt(seeds).\n", s->n_seeds, v->metric, 100.0 * v->resolvable,
                v->n_tests > 1 ? "; Holm's correction raises the bar further" : "");
    else if (s->n_cfg > 1)
        fputs("\n**What the seeds resolve:** nothing could be compared (too few seeds finished "
              "in pairs).\n", f);
}

static void add_num(cJSON *o, const char *key, double v)
{
    if (isnan(v) || isinf(v))
        cJSON_AddNullToObject(o, key);
    else
        cJSON_AddNumberToObject(o, key, v);
}

static cJSON *ci_json(double mean, double sd, double half)
{
    cJSON *o = cJSON_CreateObject();
    add_num(o, "mean", mean);
    add_num(o, "sd", sd);
    add_num(o, "ci95_lo", mean - half);
    add_num(o, "ci95_hi", mean + half);
    return o;
}

int report_json(FILE *f, const cmp_study *s, const cmp_row *rows, const cmp_verdict *v)
{
    cJSON *j = cJSON_CreateObject(), *keys = cJSON_CreateArray(), *cfgs = cJSON_CreateArray();
    cJSON *stopped = cJSON_CreateArray();
    char note[4096];
    cJSON_AddStringToObject(j, "command", s->command);
    cJSON_AddStringToObject(j, "data", s->data);
    cJSON_AddNumberToObject(j, "seeds", s->n_seeds);
    cJSON_AddNumberToObject(j, "first_seed", (double)s->seed0);
    cJSON_AddNumberToObject(j, "train_samples", s->n_train);
    cJSON_AddNumberToObject(j, "val_samples", s->n_val);
    cJSON_AddNumberToObject(j, "eval_samples", s->n_eval);
    cJSON_AddStringToObject(j, "eval_set", s->eval_name);
    cJSON_AddStringToObject(j, "selection_metric", v->metric);
    for (int k = 0; k < s->n_keys; k++)
        cJSON_AddItemToArray(keys, cJSON_CreateString(s->key[k]));
    cJSON_AddItemToObject(j, "keys", keys);
    for (int c = 0; c < s->n_cfg; c++) {
        const cmp_row *w = &rows[c];
        cJSON *o = cJSON_CreateObject(), *vals = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "name", s->cfg[c].name);
        for (int k = 0; k < s->n_keys; k++)
            cJSON_AddStringToObject(vals, s->key[k], s->cfg[c].value[k]);
        cJSON_AddItemToObject(o, "values", vals);
        cJSON_AddNumberToObject(o, "runs_finished", w->n_ok);
        cJSON_AddItemToObject(o, "selection", ci_json(w->sel_mean, w->sel_sd, w->sel_ci));
        cJSON_AddItemToObject(o, strcmp(s->eval_name, "test") ? "final_train_accuracy" : "test_accuracy",
                              ci_json(w->acc_mean, w->n_ok > 1 ? w->acc_std : NAN, w->acc_ci));
        add_num(o, "final_loss", w->loss_mean);
        add_num(o, "epochs_to_target", w->to_target);
        add_num(o, "seconds_per_epoch", w->sec_per_epoch);
        add_num(o, "dead", w->dead);
        add_num(o, "saturated", w->sat);
        add_num(o, "vanishing_index", w->vanish);
        cJSON_AddNumberToObject(o, "rank", w->rank);
        add_num(o, "p_ttest_holm", w->p_t);
        add_num(o, "p_wilcoxon_holm", w->p_w);
        cJSON_AddStringToObject(o, "verdict", c == v->best ? "best" : !w->rank ? "failed" :
                                isnan(w->p_t) ? "untested" : w->tied ? "tied" : "worse");
        cJSON_AddItemToArray(cfgs, o);
    }
    cJSON_AddItemToObject(j, "configurations", cfgs);
    if (v->best >= 0)
        cJSON_AddStringToObject(j, "best", s->cfg[v->best].name);
    else
        cJSON_AddNullToObject(j, "best");
    add_num(j, "resolvable_difference", v->resolvable);
    report_vanishing_note(s, rows, note, sizeof note);
    if (note[0])
        cJSON_AddStringToObject(j, "vanishing_note", note);
    for (int r = 0; r < s->n_cfg * s->n_seeds; r++)
        if (s->run[r].status != TMLP_OK) {
            cJSON *o = cJSON_CreateObject();
            cJSON_AddStringToObject(o, "configuration", s->cfg[r / s->n_seeds].name);
            cJSON_AddNumberToObject(o, "seed", (double)(s->seed0 + (uint64_t)(r % s->n_seeds)));
            cJSON_AddNumberToObject(o, "epochs", s->run[r].n_epochs);
            cJSON_AddStringToObject(o, "error", s->run[r].msg);
            cJSON_AddItemToArray(stopped, o);
        }
    cJSON_AddItemToObject(j, "stopped", stopped);
    char *text = cJSON_PrintUnformatted(j);
    cJSON_Delete(j);
    if (!text)
        return TMLP_ENOMEM;
    fprintf(f, "%s\n", text);
    free(text);
    return TMLP_OK;
}
