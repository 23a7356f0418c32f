/* report_html.c: report.html, one self-contained page for a compare study.
 *
 * No scripts, no fonts, no network: CSS in the head and every chart inline SVG
 * (report_svg.c), so the file opens anywhere and prints. The page is well-formed XML as well as
 * HTML5, and declares how many charts it holds (meta tinymlp-charts) so scripts/check-report.sh
 * can check that a browser rendered every one of them. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "atomic.h"
#include "report.h"

static const char *const css =
    "body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;color:#222;"
    "max-width:1240px;margin:0 auto;padding:0 20px 40px;line-height:1.45}"
    "h1{font-size:26px;margin:24px 0 4px}h2{font-size:20px;margin:34px 0 8px;"
    "border-bottom:1px solid #ddd;padding-bottom:4px}h3{font-size:15px;margin:16px 0 6px}"
    "code{background:#f4f4f4;padding:1px 4px;border-radius:3px;font-size:13px}"
    "p.cmd code{display:block;padding:8px;white-space:pre-wrap;word-break:break-all}"
    "table{border-collapse:collapse;font-size:14px;margin:8px 0}"
    "th,td{border:1px solid #d6d6d6;padding:4px 9px}th{background:#f3f5f8;text-align:left}"
    "td{white-space:nowrap}"
    "td.n{text-align:right;font-variant-numeric:tabular-nums}tr.best td{font-weight:bold}"
    "td.warn{background:#fde8e8}.swatch{display:inline-block;width:12px;height:12px;"
    "border-radius:2px;margin-right:5px;vertical-align:-1px}"
    ".charts{display:flex;flex-wrap:wrap;gap:14px;align-items:flex-start}"
    ".charts svg{border:1px solid #e6e6e6;border-radius:4px}"
    ".note{background:#fff7e0;border-left:4px solid #f2b705;padding:8px 12px;margin:10px 0}"
    ".legend span{margin-right:14px;font-size:13px;white-space:nowrap}"
    "footer{margin-top:40px;color:#666;font-size:13px}";

/* Mean, min and max over a study's seeds of one per-epoch value, for each epoch. */
typedef double (*pick_fn)(const cmp_study *s, const cmp_run *r, int epoch, int layer);

static double pick_train_loss(const cmp_study *s, const cmp_run *r, int e, int l)
{
    (void)s, (void)l;
    return r->epoch[e].train_loss;
}
static double pick_eval_acc(const cmp_study *s, const cmp_run *r, int e, int l)
{
    (void)s, (void)l;
    return r->epoch[e].eval_acc;
}
static double pick_val_acc(const cmp_study *s, const cmp_run *r, int e, int l)
{
    (void)s, (void)l;
    return r->epoch[e].val_acc;
}
static double pick_grad(const cmp_study *s, const cmp_run *r, int e, int l)
{
    return r->layer[(size_t)e * s->n_layers + l].grad_norm;
}

/* Fills y/lo/hi (epochs) for activation a; geometric means when geo. */
static void over_seeds(const cmp_study *s, int a, pick_fn pick, int layer, int geo, double *y,
                       double *lo, double *hi)
{
    for (int e = 0; e < s->epochs; e++) {
        double sum = 0;
        int n = 0;
        lo[e] = INFINITY;
        hi[e] = -INFINITY;
        for (int k = 0; k < s->n_seeds; k++) {
            const cmp_run *r = &s->run[a * s->n_seeds + k];
            if (e >= r->n_epochs)
                continue;
            double v = pick(s, r, e, layer);
            if (!isfinite(v) || (geo && v <= 0))
                continue;
            sum += geo ? log(v) : v;
            n++;
            lo[e] = fmin(lo[e], v);
            hi[e] = fmax(hi[e], v);
        }
        y[e] = n ? (geo ? exp(sum / n) : sum / n) : NAN;
        if (!n)
            lo[e] = hi[e] = NAN;
    }
}

/* A colour from dark blue to yellow (viridis, interpolated) for t in [0, 1]. */
static void ramp(double t, char *buf, size_t size)
{
    static const int stops[5][3] = { { 68, 1, 84 }, { 59, 82, 139 }, { 33, 145, 140 },
                                     { 94, 201, 98 }, { 253, 231, 37 } };
    double u = fmin(fmax(t, 0.0), 1.0) * 4 * 0.92; /* stop short of the palest yellow */
    int i = (int)u < 3 ? (int)u : 3;
    double f = u - i;
    int rgb[3];
    for (int k = 0; k < 3; k++)
        rgb[k] = (int)lround(stops[i][k] + f * (stops[i + 1][k] - stops[i][k]));
    snprintf(buf, size, "#%02x%02x%02x", rgb[0], rgb[1], rgb[2]);
}

static svg_chart chart(const char *title, const char *xl, const char *yl, int w, int h)
{
    svg_chart c = { .title = title, .xlabel = xl, .ylabel = yl, .width = w, .height = h,
                    .ymin = NAN, .ymax = NAN, .ref_y = NAN, .int_x = 1 };
    return c;
}

/* One curve per activation of a per-epoch value (mean over seeds, min..max band). */
static void curves(FILE *f, const cmp_study *s, svg_chart c, pick_fn pick, int geo)
{
    int E = s->epochs, A = s->n_cfg;
    double *buf = malloc(sizeof(double) * (size_t)(E * (3 * A + 1)));
    svg_series ser[CMP_MAX_CFG];
    if (!buf)
        return;
    double *x = buf + (size_t)3 * A * E;
    for (int e = 0; e < E; e++)
        x[e] = e + 1;
    for (int a = 0; a < A; a++) {
        double *y = buf + (size_t)3 * a * E;
        over_seeds(s, a, pick, 0, geo, y, y + E, y + 2 * E);
        ser[a] = (svg_series){ s->cfg[a].name, svg_color(a), svg_dash(a), E, x, y,
                               s->n_seeds > 1 ? y + E : NULL, s->n_seeds > 1 ? y + 2 * E : NULL };
    }
    c.legend = 1;
    svg_line_chart(f, &c, ser, A);
    free(buf);
}

/* Final-epoch weight-gradient norm per layer, one line per activation. */
static void grad_by_layer(FILE *f, const cmp_study *s)
{
    int L = s->n_layers, A = s->n_cfg, E = s->epochs;
    double *buf = malloc(sizeof(double) * (size_t)(L * (A + 1) + 3 * E));
    svg_series ser[CMP_MAX_CFG];
    if (!buf)
        return;
    double *x = buf + (size_t)A * L, *tmp = x + L;
    for (int l = 0; l < L; l++)
        x[l] = l + 1;
    for (int a = 0; a < A; a++) {
        for (int l = 0; l < L; l++) {
            over_seeds(s, a, pick_grad, l, 1, tmp, tmp + E, tmp + 2 * E);
            buf[a * L + l] = tmp[E - 1];
        }
        ser[a] = (svg_series){ s->cfg[a].name, svg_color(a), svg_dash(a), L, x, buf + a * L, NULL, NULL };
    }
    svg_chart c = chart("Weight-gradient norm by layer, last epoch", "layer (1 = first hidden, "
                        "last = output)", "||dW|| (log scale)", 600, 360);
    c.logy = c.legend = 1;
    svg_line_chart(f, &c, ser, A);
    free(buf);
}

/* Per activation: the gradient norm of every layer over the epochs, on a shared log scale. */
static void grad_multiples(FILE *f, const cmp_study *s)
{
    int L = s->n_layers, E = s->epochs;
    double lo = INFINITY, hi = -INFINITY;
    for (int j = 0; j < s->n_cfg * s->n_seeds; j++)
        for (int e = 0; e < s->run[j].n_epochs; e++)
            for (int l = 0; l < L; l++) {
                double v = s->run[j].layer[(size_t)e * L + l].grad_norm;
                if (v > 0 && isfinite(v))
                    lo = fmin(lo, v), hi = fmax(hi, v);
            }
    double *buf = malloc(sizeof(double) * (size_t)(E * (3 * L + 1)));
    svg_series *ser = malloc(sizeof *ser * (size_t)L);
    char (*colors)[16] = malloc(sizeof *colors * (size_t)L), (*names)[24] = malloc(sizeof *names * (size_t)L);
    if (!buf || !ser || !colors || !names)
        goto done;
    fputs("<p class=\"legend\">", f);
    for (int l = 0; l < L; l++) {
        ramp(L > 1 ? (double)l / (L - 1) : 0, colors[l], sizeof colors[l]);
        if (l == L - 1)
            snprintf(names[l], sizeof names[l], "output");
        else
            snprintf(names[l], sizeof names[l], "layer %d", l + 1);
        fprintf(f, "<span><span class=\"swatch\" style=\"background:%s\"></span>%s</span>", colors[l], names[l]);
    }
    fputs("</p>\n<div class=\"charts\">\n", f);
    double *x = buf + (size_t)3 * L * E;
    for (int e = 0; e < E; e++)
        x[e] = e + 1;
    for (int a = 0; a < s->n_cfg; a++) {
        for (int l = 0; l < L; l++) {
            double *y = buf + (size_t)3 * l * E;
            over_seeds(s, a, pick_grad, l, 1, y, y + E, y + 2 * E);
            ser[l] = (svg_series){ names[l], colors[l], NULL, E, x, y, NULL, NULL };
        }
        svg_chart c = chart(s->cfg[a].name, "epoch", "||dW||", 300, 240);
        c.logy = 1;
        c.ymin = isfinite(lo) ? lo : NAN;
        c.ymax = isfinite(hi) ? hi : NAN;
        svg_line_chart(f, &c, ser, L);
    }
    fputs("</div>\n", f);
done:
    free(buf);
    free(ser);
    free(colors);
    free(names);
}

/* f and f' of every activation on [-4, 4]. */
static void act_plots(FILE *f, const cmp_study *s)
{
    enum { N = 161 };
    double x[N], y[N], dy[N];
    float xf[N], yf[N], ones[N], dxf[N], param[1], dparam[1];
    for (int i = 0; i < N; i++) {
        x[i] = -4.0 + 8.0 * i / (N - 1);
        xf[i] = (float)x[i];
        ones[i] = 1.0f;
    }
    fputs("<div class=\"charts\">\n", f);
    for (int a = 0; a < s->n_cfg; a++) {
        const tmlp_act *act = s->cfg[a].act;
        param[0] = act->param_init;
        const float *p = act->params ? param : NULL;
        act->forward(N, 1, xf, yf, s->cfg[a].act_arg, p);
        act->backward(N, 1, xf, yf, ones, dxf, s->cfg[a].act_arg, p, p ? dparam : NULL);
        double lo = 0, hi = 1;
        for (int i = 0; i < N; i++) {
            y[i] = yf[i];
            dy[i] = dxf[i];
            lo = fmin(lo, fmin(y[i], dy[i]));
            hi = fmax(hi, fmax(y[i], dy[i]));
        }
        svg_series ser[2] = { { "f(x)", svg_color(a), NULL, N, x, y, NULL, NULL },
                              { "f'(x)", "#444444", "5 3", N, x, dy, NULL, NULL } };
        svg_chart c = chart(s->cfg[a].name, "x", NULL, 260, 210);
        c.int_x = 1;
        c.ymin = fmax(lo, -2.0);
        c.ymax = fmin(hi, 4.0);
        c.ref_y = 0.0;
        svg_line_chart(f, &c, ser, 2);
    }
    fputs("</div>\n", f);
}

static void cell_pct(FILE *f, double v)
{
    if (isnan(v))
        fputs("<td class=\"n\">—</td>", f);
    else
        fprintf(f, "<td class=\"n\">%.1f%%</td>", 100.0 * v);
}

static void summary_table(FILE *f, const cmp_study *s, const cmp_row *rows)
{
    int best = -1;
    double vmax = 0;
    for (int a = 0; a < s->n_cfg; a++) {
        if (rows[a].n_ok && (best < 0 || rows[a].acc_mean > rows[best].acc_mean))
            best = a;
        if (!isnan(rows[a].vanish))
            vmax = fmax(vmax, rows[a].vanish);
    }
    fprintf(f, "<table>\n<tr><th>%s</th><th>init</th><th>%s accuracy<br/>mean ± std</th>"
            "<th>final loss</th><th>epochs to %g%%<br/>%s accuracy</th><th>s / epoch</th>"
            "<th>dead units</th><th>saturated units</th><th>vanishing index<br/>epoch 1</th>"
            "<th>vanishing index<br/>last epoch</th></tr>\n", s->cfg[0].act ? "activation" : "configuration", s->eval_name, 100 * s->target,
            s->n_val ? "validation" : s->eval_name);
    for (int a = 0; a < s->n_cfg; a++) {
        const cmp_row *w = &rows[a];
        fprintf(f, "<tr%s><td><span class=\"swatch\" style=\"background:%s\"></span>",
                a == best ? " class=\"best\"" : "", svg_color(a));
        html_text(f, s->cfg[a].name);
        fprintf(f, "</td><td>%s</td>", s->cfg[a].init_name);
        if (w->n_ok > 1)
            fprintf(f, "<td class=\"n\">%.2f%% ± %.2f</td><td class=\"n\">%.4f</td>",
                    100 * w->acc_mean, 100 * w->acc_std, w->loss_mean);
        else if (w->n_ok)
            fprintf(f, "<td class=\"n\">%.2f%%</td><td class=\"n\">%.4f</td>", 100 * w->acc_mean,
                    w->loss_mean);
        else
            fputs("<td class=\"n\">failed</td><td class=\"n\">—</td>", f);
        if (!w->n_reached)
            fputs("<td class=\"n\">—</td>", f);
        else if (w->n_reached < w->n_ok)
            fprintf(f, "<td class=\"n\">%.1f (%d of %d seeds)</td>", w->to_target, w->n_reached, w->n_ok);
        else
            fprintf(f, "<td class=\"n\">%.1f</td>", w->to_target);
        if (isnan(w->sec_per_epoch))
            fputs("<td class=\"n\">—</td>", f);
        else
            fprintf(f, "<td class=\"n\">%.2f</td>", w->sec_per_epoch);
        cell_pct(f, w->dead);
        cell_pct(f, w->sat);
        const double v[2] = { w->vanish_first, w->vanish };
        for (int k = 0; k < 2; k++) {
            if (isnan(v[k]))
                fputs("<td class=\"n\">—</td>", f);
            else
                fprintf(f, "<td class=\"n%s\">%.3g</td>", v[k] * 100 <= vmax ? " warn" : "", v[k]);
        }
        fputs("</tr>\n", f);
    }
    fputs("</table>\n", f);
}

/* The ranking table (rank, CIs, tests, verdict), the verdict in words, the chart of every
 * configuration's selection metric with its CI, and one chart per swept setting. */
static void ranking_html(FILE *f, const cmp_study *s, const cmp_row *rows, const cmp_verdict *v)
{
    static double mean[CMP_MAX_CFG], lo[CMP_MAX_CFG], hi[CMP_MAX_CFG];
    static const char *cats[CMP_MAX_CFG];
    static int mark[CMP_MAX_CFG];
    fprintf(f, "<p>Chosen on the final %s, never on the %s set. Each configuration is compared "
            "with the best over the seeds both finished by a paired t-test%s, Holm-corrected; "
            "<em>tied</em>: not significantly worse at the 5%% level.</p>\n<table>\n<tr><th>rank"
            "</th><th>configuration</th><th>%s<br/>mean [95%% CI]</th><th>%s accuracy<br/>mean "
            "[95%% CI]</th><th>p, paired t<br/>(Holm)</th>%s<th>verdict</th></tr>\n", v->metric,
            s->eval_name, v->wilcoxon ? " and the Wilcoxon signed-rank test" : "", v->metric,
            s->eval_name, v->wilcoxon ? "<th>p, Wilcoxon<br/>(Holm)</th>" : "");
    int n = 0;
    for (int r = 0; r <= s->n_cfg; r++)
        for (int c = 0; c < s->n_cfg; c++) {
            const cmp_row *w = &rows[c];
            if (w->rank != (r ? r : -1) && !(r == s->n_cfg && !w->rank))
                continue;
            fprintf(f, "<tr%s><td class=\"n\">", c == v->best ? " class=\"best\"" : "");
            if (w->rank)
                fprintf(f, "%d</td><td>", w->rank);
            else
                fputs("—</td><td>", f);
            html_text(f, s->cfg[c].name);
            fputs("</td>", f);
            const double m[2] = { w->sel_mean, w->acc_mean }, h[2] = { w->sel_ci, w->acc_ci };
            for (int k = 0; k < 2; k++) {
                if (isnan(m[k]))
                    fputs("<td class=\"n\">—</td>", f);
                else if (isnan(h[k]))
                    fprintf(f, "<td class=\"n\">%.2f%%</td>", 100 * m[k]);
                else
                    fprintf(f, "<td class=\"n\">%.2f%% [%.2f, %.2f]</td>", 100 * m[k],
                            100 * (m[k] - h[k]), 100 * (m[k] + h[k]));
            }
            const double p[2] = { w->p_t, w->p_w };
            for (int k = 0; k < 1 + v->wilcoxon; k++) {
                if (isnan(p[k]))
                    fputs("<td class=\"n\">—</td>", f);
                else
                    fprintf(f, "<td class=\"n\">%s%.3f</td>", p[k] < 0.001 ? "&lt; " : "",
                            p[k] < 0.001 ? 0.001 : p[k]);
            }
            fprintf(f, "<td>%s</td></tr>\n", c == v->best ? "best" : !w->rank ? "failed" :
                    isnan(w->p_t) ? "untested" : w->tied ? "tied with the best" : "worse");
            if (w->rank) {
                cats[n] = s->cfg[c].name;
                mean[n] = w->sel_mean;
                lo[n] = w->sel_mean - w->sel_ci;
                hi[n] = w->sel_mean + w->sel_ci;
                mark[n++] = c == v->best ? 2 : w->tied;
            }
        }
    fputs("</table>\n<p class=\"note\">", f);
    char *text = NULL;
    size_t size = 0;
    FILE *m = open_memstream(&text, &size);
    if (m) { /* the same sentences as summary.md and stdout */
        report_verdict_md(m, s, rows, v);
        fclose(m);
        char *p = strstr(text ? text : "", "\n**Best");
        int strong = 0;
        for (char *t = p ? p + 1 : ""; *t; t++) { /* Markdown's **bold** and paragraphs */
            if (t[0] == '*' && t[1] == '*') {
                fputs(strong ? "</strong>" : "<strong>", f);
                strong = !strong;
                t++;
            } else if (t[0] == '\n') {
                if (t[1] == '\n' && t[2])
                    fputs("<br/><br/>", f);
                if (t[1] == '\n')
                    t++;
            } else {
                char one[2] = { *t, 0 };
                html_text(f, one);
            }
        }
        if (strong)
            fputs("</strong>", f);
        free(text);
    }
    fputs("</p>\n<div class=\"charts\">\n", f);
    char ylabel[96];
    snprintf(ylabel, sizeof ylabel, "final %s", v->metric);
    svg_chart c = chart("Configurations by rank: mean and 95% CI over seeds (red: best, orange: tied)",
                        NULL, ylabel, n > 12 ? 1100 : 760, 380);
    c.percent_y = 1;
    svg_ci_chart(f, &c, cats, n, mean, lo, hi, mark);
    for (int k = 0; k < (s->cfg[0].act ? 0 : s->n_keys); k++) { /* per swept setting */
        /* for each value: the best configuration with it (mean and CI over seeds) */
        static const char *vcats[CMP_MAX_CFG];
        int nv = 0;
        for (int cfg = 0; cfg < s->n_cfg; cfg++) {
            int seen = -1;
            for (int i = 0; i < nv; i++)
                if (!strcmp(vcats[i], s->cfg[cfg].value[k]))
                    seen = i;
            if (seen < 0) {
                seen = nv++;
                vcats[seen] = s->cfg[cfg].value[k];
                mean[seen] = lo[seen] = hi[seen] = NAN;
                mark[seen] = 0;
            }
            const cmp_row *w = &rows[cfg];
            if (w->rank && (isnan(mean[seen]) || w->sel_mean > mean[seen])) {
                mean[seen] = w->sel_mean;
                lo[seen] = w->sel_mean - w->sel_ci;
                hi[seen] = w->sel_mean + w->sel_ci;
                mark[seen] = cfg == v->best ? 2 : w->tied;
            }
        }
        char title[160];
        snprintf(title, sizeof title, "%s: the best configuration with each value (95%% CI)", s->key[k]);
        c = chart(title, NULL, ylabel, 600, 360);
        c.percent_y = 1;
        svg_ci_chart(f, &c, vcats, nv, mean, lo, hi, mark);
    }
    fputs("</div>\n", f);
}

int report_write_html(const cmp_study *s, const char *dir, tmlp_err *err)
{
    char path[4200], note[4096];
    snprintf(path, sizeof path, "%s/report.html", dir);
    cli_out o;                /* written whole or not at all, like the CSV files (atomic.h) */
    if (cli_out_open(&o, path, "report.html", err) != TMLP_OK)
        return TMLP_EIO;
    FILE *f = o.f;
    static cmp_row rows[CMP_MAX_CFG];
    cmp_verdict v;
    report_summarise(s, rows);
    report_rank(s, rows, &v);
    const int acts = s->cfg[0].act != NULL, keys = acts ? 0 : s->n_keys;
    int n_charts = 2 + (s->n_val ? 1 : 0) + 2 + 1 + keys + (s->same_layers ? 1 + s->n_cfg : 0) +
                   (acts ? s->n_cfg : 0);
    fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n"
          "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>\n", f);
    fprintf(f, "<meta name=\"tinymlp-charts\" content=\"%d\"/>\n<title>%s on ", n_charts, s->title);
    html_text(f, s->data);
    fprintf(f, "</title>\n<style>%s</style>\n</head>\n<body>\n<h1>%s on ", css, s->title);
    html_text(f, s->data);
    fputs("</h1>\n<p class=\"cmd\"><code>", f);
    html_text(f, s->command);
    fputs("</code></p>\n", f);
    if (acts) {
        fprintf(f, "<p>Network %d", s->n_in);
        for (int i = 0; i < s->n_layers; i++)
            fprintf(f, "–%d", s->width[i]);
        fprintf(f, " (%d hidden layers, output by %s), %s with learning rate %g and a %s schedule, "
                "batch %d, %d epochs, %d seed%s (%llu–%llu). %d training, %d validation and %d %s "
                "samples%s. Each run used one thread; %d ran at a time; the study took %.0f s.</p>\n",
                s->n_layers - 1, s->loss, s->opt, s->lr, s->schedule, s->batch, s->epochs, s->n_seeds,
                s->n_seeds > 1 ? "s" : "", (unsigned long long)s->seed0,
                (unsigned long long)(s->seed0 + (uint64_t)s->n_seeds - 1), s->n_train, s->n_val,
                s->n_eval, s->eval_name, s->standardize ? ", inputs standardised" : "", s->jobs,
                s->wall_seconds);
        fputs("<p>For every seed, each activation's run draws its initial weights from the same "
              "seed and sees the same batch order. Each activation uses the initializer it needs "
              "(column <em>init</em>: He uniform for the ReLU family, LeCun normal for selu, Glorot "
              "uniform otherwise), so the initial weights themselves differ: a different "
              "initializer turns the same random draws into different numbers.</p>\n", f);

    } else {
        char samples[256];
        report_samples(samples, sizeof samples, s);
        fprintf(f, "<p>%d configurations × %d seed%s = %d runs; ", s->n_cfg, s->n_seeds,
                s->n_seeds > 1 ? "s" : "", s->n_cfg * s->n_seeds);
        html_text(f, samples);
        fprintf(f, ". Every configuration's run with seed k draws the same initial weights and "
                "sees the same batch order (a paired design). Each run used one thread; the study "
                "took %.0f s.</p>\n", s->wall_seconds);
    }
    fputs("<h2>Ranking</h2>\n", f);
    ranking_html(f, s, rows, &v);
    fputs("<h2>Summary</h2>\n", f);
    summary_table(f, s, rows);
    report_vanishing_note(s, rows, note, sizeof note);
    if (note[0]) {
        fputs("<p class=\"note\"><strong>Vanishing gradients.</strong> ", f);
        html_text(f, note);
        fputs("</p>\n", f);
    }
    for (int j = 0; j < s->n_cfg * s->n_seeds; j++)
        if (s->run[j].status != TMLP_OK) {
            fprintf(f, "<p class=\"note\"><strong>Run stopped.</strong> %s, seed %llu, after %d "
                    "epochs: ", s->cfg[j / s->n_seeds].name,
                    (unsigned long long)(s->seed0 + (uint64_t)(j % s->n_seeds)), s->run[j].n_epochs);
            html_text(f, s->run[j].msg);
            fputs("</p>\n", f);
        }

    fputs("<h2>Learning curves</h2>\n<p>Mean over seeds; the shaded band spans the lowest to "
          "the highest seed.</p>\n<div class=\"charts\">\n", f);
    svg_chart c = chart("Training loss", "epoch", "loss (log scale)", 600, 360);
    c.logy = 1;
    curves(f, s, c, pick_train_loss, 1);
    char title[96], ylabel[96], target[48];
    snprintf(title, sizeof title, "%s accuracy", s->eval_name);
    title[0] = (char)(title[0] - 32 * (title[0] >= 'a' && title[0] <= 'z'));
    snprintf(ylabel, sizeof ylabel, "%s accuracy", s->eval_name);
    c = chart(title, "epoch", ylabel, 600, 360);
    c.percent_y = 1;
    curves(f, s, c, pick_eval_acc, 0);
    if (s->n_val) {
        c = chart("Validation accuracy", "epoch", "validation accuracy", 600, 360);
        c.percent_y = 1;
        c.ref_y = s->target;
        snprintf(target, sizeof target, "target %g%%", 100 * s->target);
        c.ref_label = target;
        curves(f, s, c, pick_val_acc, 0);
    }
    fputs("</div>\n", f);

    fputs("<h2>Gradients</h2>\n<p>The norm of each layer's weight gradient ||dW|| (mean over "
          "the epoch's steps; geometric mean over seeds). When it falls layer by layer from the "
          "output back to the input, the first layers hardly learn: vanishing gradients. The "
          "<em>vanishing index</em> is the first layer's norm over the last layer's (the dashed "
          "line marks 1).</p>\n<div class=\"charts\">\n", f);
    if (s->same_layers)
        grad_by_layer(f, s);
    static double idx[CMP_MAX_CFG];
    static const char *cats[CMP_MAX_CFG];
    for (int a = 0; a < s->n_cfg; a++) {
        idx[a] = rows[a].vanish;
        cats[a] = s->cfg[a].name;
    }
    svg_series one = { "vanishing index", NULL, NULL, s->n_cfg, NULL, idx, NULL, NULL };
    c = chart("Vanishing index (first / last layer), last epoch", NULL, "||dW₁|| / ||dW_last|| (log)", 600, 360);
    c.logy = 1;
    c.ref_y = 1.0;
    c.ref_label = "1: first and last layer alike";
    svg_bar_chart(f, &c, cats, s->n_cfg, &one, 1);
    fputs("</div>\n", f);
    if (s->same_layers) {
        fputs("<h3>Per-layer gradient norms over the epochs (shared log scale)</h3>\n", f);
        grad_multiples(f, s);
    }

    fputs("<h2>Dead and saturated units</h2>\n<p>Hidden units, last epoch, mean over seeds. "
          "<em>Dead</em>: a unit of a ReLU-like layer whose output was 0 for every training "
          "sample of the epoch (it gets no gradient and will not recover). <em>Saturated</em>: a "
          "unit of a sigmoid-like layer with |f′| &lt; 0.01 on more than half of the samples. "
          "n/a: the activation cannot die, or does not saturate.</p>\n<div class=\"charts\">\n", f);
    static double dead[CMP_MAX_CFG], sat[CMP_MAX_CFG];
    for (int a = 0; a < s->n_cfg; a++) {
        dead[a] = rows[a].dead;
        sat[a] = rows[a].sat;
    }
    svg_series two[2] = { { "dead", "#e15759", NULL, s->n_cfg, NULL, dead, NULL, NULL },
                          { "saturated", "#4e79a7", NULL, s->n_cfg, NULL, sat, NULL, NULL } };
    c = chart("Dead and saturated hidden units, last epoch", NULL, "share of hidden units", 760, 340);
    c.percent_y = c.legend = 1;
    c.ymin = 0;
    c.ymax = 0.05; /* at least 0-5%, so a few units do not look like many */
    for (int a = 0; a < s->n_cfg; a++)
        c.ymax = fmax(c.ymax, fmax(isnan(dead[a]) ? 0 : dead[a], isnan(sat[a]) ? 0 : sat[a]));
    svg_bar_chart(f, &c, cats, s->n_cfg, two, 2);
    fputs("</div>\n", f);

    if (acts) {
        fputs("<h2>The activation functions</h2>\n<p>f(x) solid, its derivative f′(x) dashed, on "
              "[−4, 4]; the values tinymlp computes (<code>tinymlp act NAME</code> prints them).</p>\n", f);
        act_plots(f, s);
    }

    fputs("<footer>Every number on this page is in <a href=\"results.csv\">results.csv</a> (per "
          "activation, seed and epoch), <a href=\"layers.csv\">layers.csv</a> (per layer: "
          "gradient, weight and update norms, pre-activation and output statistics, dead and "
          "saturated fractions) and <a href=\"timing.csv\">timing.csv</a>; the table is also "
          "<a href=\"summary.md\">summary.md</a>. Made by tinymlp " TINYMLP_VERSION
          ".</footer>\n</body>\n</html>\n", f);
    return cli_out_commit(&o, err);
}
