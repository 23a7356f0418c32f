/* report_svg.c: small, dependency-free SVG charts for report.html.
 *
 * Line charts (linear or log10 y, optional min..max bands, markers, legend, a reference line)
 * and grouped bar charts. Output is well-formed XML (every element closed, every attribute
 * quoted, text escaped) so the page parses as XHTML too. Numbers are written with %.1f: charts
 * need no more, and the files stay small. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"

/* Tableau 10: distinct hues that stay apart for most colour-vision deficiencies, printed or not. */
static const char *const palette[] = { "#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f",
                                       "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac" };
static const char *const dashes[] = { NULL, "6 3", "2 2", "8 3 2 3" };

const char *svg_color(int i)
{
    return palette[i % 10];
}

const char *svg_dash(int i)
{
    return dashes[(i / 10) % 4];
}

void html_text(FILE *f, const char *t)
{
    for (; *t; t++)
        switch (*t) {
        case '&': fputs("&amp;", f); break;
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '"': fputs("&quot;", f); break;
        default: fputc(*t, f);
        }
}

typedef struct frame {         /* the plotting area and the data range it shows */
    double x0, y0, w, h;       /* pixels: left, top, width, height */
    double xmin, xmax, ymin, ymax; /* data units (log10 of y when logy) */
    int logy;
} frame;

static double px(const frame *fr, double x)
{
    return fr->x0 + (x - fr->xmin) / (fr->xmax - fr->xmin) * fr->w;
}

/* Pixel row of y, or NAN when y cannot be drawn (non-finite, or <= 0 on a log axis). */
static double py(const frame *fr, double y)
{
    if (!isfinite(y) || (fr->logy && y <= 0))
        return NAN;
    double v = fr->logy ? log10(y) : y;
    return fr->y0 + fr->h - (v - fr->ymin) / (fr->ymax - fr->ymin) * fr->h;
}

/* 1, 2 or 5 times a power of ten, about range / n. */
static double nice_step(double range, int n)
{
    double raw = range / n, p = pow(10.0, floor(log10(raw))), m = raw / p;
    return (m < 1.5 ? 1 : m < 3.5 ? 2 : m < 7.5 ? 5 : 10) * p;
}

static void text(FILE *f, double x, double y, const char *anchor, const char *extra, const char *t)
{
    fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\"%s>", x, y, anchor, extra ? extra : "");
    html_text(f, t);
    fputs("</text>\n", f);
}

static void open_svg(FILE *f, const svg_chart *c, int n_series)
{
    fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" data-series=\"%d\" "
            "width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" font-family=\"sans-serif\" "
            "font-size=\"12\" role=\"img\" aria-label=\"", n_series, c->width, c->height,
            c->width, c->height);
    html_text(f, c->title);
    fputs("\">\n", f);
    fprintf(f, "<rect width=\"%d\" height=\"%d\" fill=\"#ffffff\"/>\n", c->width, c->height);
    text(f, c->width / 2.0, 18, "middle", " font-size=\"14\" font-weight=\"bold\"", c->title);
}

/* Y ticks, grid lines and labels; x axis line. */
static void y_axis(FILE *f, const frame *fr, const svg_chart *c)
{
    char label[64];
    if (fr->logy) {
        int decades = (int)lround(fr->ymax - fr->ymin), step = decades > 8 ? (decades + 7) / 8 : 1;
        for (int k = (int)lround(fr->ymin); k <= (int)lround(fr->ymax); k += step) {
            double y = fr->y0 + fr->h - (k - fr->ymin) / (fr->ymax - fr->ymin) * fr->h;
            fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#e3e3e3\"/>\n",
                    fr->x0, y, fr->x0 + fr->w, y);
            fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">10<tspan dy=\"-6\" "
                    "font-size=\"9\">%d</tspan></text>\n", fr->x0 - 6, y + 4, k);
            for (int m = 2; decades <= 3 && m <= 5 && k < (int)lround(fr->ymax); m += 3) {
                /* 2 and 5 times each power of ten: a narrow log axis gets enough labels */
                double v = m * pow(10.0, k), ym = py(fr, v);
                fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
                        "stroke=\"#f0f0f0\"/>\n", fr->x0, ym, fr->x0 + fr->w, ym);
                snprintf(label, sizeof label, "%g", v);
                text(f, fr->x0 - 6, ym + 4, "end", " font-size=\"10\" fill=\"#666666\"", label);
            }
        }
    } else {
        double step = nice_step(fr->ymax - fr->ymin, 5);
        for (double v = ceil(fr->ymin / step - 1e-9) * step; v <= fr->ymax + step * 1e-9; v += step) {
            double y = py(fr, v);
            fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#e3e3e3\"/>\n",
                    fr->x0, y, fr->x0 + fr->w, y);
            if (c->percent_y)
                snprintf(label, sizeof label, "%g%%", 100.0 * (fabs(v) < step * 1e-6 ? 0.0 : v));
            else
                snprintf(label, sizeof label, "%g", fabs(v) < step * 1e-6 ? 0.0 : v);
            text(f, fr->x0 - 6, y + 4, "end", NULL, label);
        }
    }
    fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#555555\"/>\n",
            fr->x0, fr->y0 + fr->h, fr->x0 + fr->w, fr->y0 + fr->h);
    fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#555555\"/>\n",
            fr->x0, fr->y0, fr->x0, fr->y0 + fr->h);
    if (c->ylabel) {
        fprintf(f, "<text transform=\"translate(14 %.1f) rotate(-90)\" text-anchor=\"middle\">",
                fr->y0 + fr->h / 2);
        html_text(f, c->ylabel);
        fputs("</text>\n", f);
    }
    if (c->xlabel)
        text(f, fr->x0 + fr->w / 2, fr->y0 + fr->h + 36, "middle", NULL, c->xlabel);
    if (!isnan(c->ref_y)) {
        double y = py(fr, c->ref_y);
        if (!isnan(y) && y >= fr->y0 - 0.5 && y <= fr->y0 + fr->h + 0.5) {
            fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#333333\" "
                    "stroke-dasharray=\"4 4\"/>\n", fr->x0, y, fr->x0 + fr->w, y);
            if (c->ref_label)
                text(f, fr->x0 + fr->w - 4, y - 4, "end", " font-size=\"10\" fill=\"#333333\"",
                     c->ref_label);
        }
    }
}

/* Sets fr's y range from the data (or the chart's fixed limits). */
static void y_range(frame *fr, const svg_chart *c, const svg_series *s, int n_series)
{
    double lo = INFINITY, hi = -INFINITY;
    for (int k = 0; k < n_series; k++)
        for (int i = 0; i < s[k].n; i++) {
            const double v[3] = { s[k].y[i], s[k].lo ? s[k].lo[i] : NAN, s[k].hi ? s[k].hi[i] : NAN };
            for (int t = 0; t < 3; t++)
                if (isfinite(v[t]) && (!c->logy || v[t] > 0)) {
                    double u = c->logy ? log10(v[t]) : v[t];
                    lo = fmin(lo, u);
                    hi = fmax(hi, u);
                }
        }
    if (!isnan(c->ref_y) && (!c->logy || c->ref_y > 0)) {
        double u = c->logy ? log10(c->ref_y) : c->ref_y;
        lo = fmin(lo, u);
        hi = fmax(hi, u);
    }
    if (!isfinite(lo) || !isfinite(hi)) {
        lo = 0;
        hi = 1;
    }
    if (!c->logy && hi - lo < 1e-12) { /* flat data: some room around it */
        double pad = fabs(hi) > 0 ? fabs(hi) * 0.1 : 1.0;
        lo -= pad;
        hi += pad;
    }
    if (!isnan(c->ymin))
        lo = c->logy ? log10(c->ymin) : c->ymin;
    if (!isnan(c->ymax))
        hi = c->logy ? log10(c->ymax) : c->ymax;
    if (hi <= lo)
        hi = lo + (c->logy ? 1 : fabs(lo) > 0 ? fabs(lo) : 1);
    if (c->logy) {
        lo = floor(lo + 1e-9);
        hi = ceil(hi - 1e-9);
        if (hi <= lo)
            hi = lo + 1;
    } else {
        double step = nice_step(hi - lo, 5); /* end on ticks */
        lo = floor(lo / step + 1e-9) * step;
        hi = ceil(hi / step - 1e-9) * step;
    }
    fr->ymin = lo;
    fr->ymax = hi;
    fr->logy = c->logy;
}

static void legend(FILE *f, const svg_chart *c, const frame *fr, const svg_series *s, int n_series)
{
    double x = fr->x0 + fr->w + 14, row = n_series > 12 ? 14 : 17;
    for (int k = 0; k < n_series; k++) {
        double y = fr->y0 + 6 + k * row;
        if (!s[k].x) /* bars: a swatch like the bars */
            fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"14\" height=\"10\" fill=\"%s\"/>\n",
                    x + 4, y - 5, s[k].color);
        else
            fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" "
                    "stroke-width=\"2.5\"%s%s%s/>\n", x, y, x + 22, y, s[k].color,
                    s[k].dash ? " stroke-dasharray=\"" : "", s[k].dash ? s[k].dash : "",
                    s[k].dash ? "\"" : "");
        if (s[k].x) /* line charts mark each point with a dot: so does the legend */
            fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"2.6\" fill=\"%s\"/>\n", x + 11, y,
                    s[k].color);
        text(f, x + 28, y + 4, "start", NULL, s[k].label);
    }
    int bands = 0;
    for (int k = 0; k < n_series; k++)
        bands |= s[k].lo && s[k].hi;
    if (bands && n_series < 24) {
        double y = fr->y0 + 6 + n_series * row + 6;
        fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"22\" height=\"10\" fill=\"#777777\" "
                "fill-opacity=\"0.15\"/>\n", x, y - 5);
        text(f, x + 28, y + 4, "start", " font-size=\"10\"", "seeds' min to max");
    }
    (void)c;
}

/* Says so in the frame when no series has a single point to draw (a run that stopped before
 * its first epoch, a ratio of 0 on a log axis): an empty frame would look like a broken page. */
static void no_data(FILE *f, const frame *fr, const svg_series *s, int n_series)
{
    for (int k = 0; k < n_series; k++)
        for (int i = 0; i < s[k].n; i++)
            if (!isnan(py(fr, s[k].y[i])))
                return;
    fprintf(f, "<text class=\"nodata\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" "
            "fill=\"#777777\">no data to draw</text>\n", fr->x0 + fr->w / 2, fr->y0 + fr->h / 2);
}

void svg_line_chart(FILE *f, const svg_chart *c, const svg_series *s, int n_series)
{
    frame fr = { .x0 = 62, .y0 = 32, .w = c->width - 62 - (c->legend ? 150 : 18),
                 .h = c->height - 32 - 48 };
    fr.xmin = INFINITY;
    fr.xmax = -INFINITY;
    for (int k = 0; k < n_series; k++)
        for (int i = 0; i < s[k].n; i++) {
            fr.xmin = fmin(fr.xmin, s[k].x[i]);
            fr.xmax = fmax(fr.xmax, s[k].x[i]);
        }
    if (!isfinite(fr.xmin))
        fr.xmin = 0, fr.xmax = 1;
    if (fr.xmax - fr.xmin < 1e-12)
        fr.xmin -= 0.5, fr.xmax += 0.5;
    y_range(&fr, c, s, n_series);
    open_svg(f, c, n_series);
    y_axis(f, &fr, c);
    /* x ticks */
    double step = c->int_x ? fmax(1.0, ceil((fr.xmax - fr.xmin) / 10)) : nice_step(fr.xmax - fr.xmin, 6);
    char label[32];
    for (double v = ceil(fr.xmin / step - 1e-9) * step; v <= fr.xmax + 1e-9; v += step) {
        double x = px(&fr, v);
        fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#555555\"/>\n",
                x, fr.y0 + fr.h, x, fr.y0 + fr.h + 4);
        snprintf(label, sizeof label, "%g", fabs(v) < 1e-9 ? 0.0 : v);
        text(f, x, fr.y0 + fr.h + 17, "middle", NULL, label);
    }
    for (int k = 0; k < n_series; k++) {
        const svg_series *q = &s[k];
        if (q->lo && q->hi) { /* the band: hi forwards, lo backwards */
            fprintf(f, "<path fill=\"%s\" fill-opacity=\"0.15\" stroke=\"none\" d=\"", q->color);
            int first = 1;
            for (int i = 0; i < q->n; i++) {
                double y = py(&fr, q->hi[i]);
                if (!isnan(y))
                    fprintf(f, "%s%.1f %.1f ", first ? "M" : "L", px(&fr, q->x[i]), y), first = 0;
            }
            for (int i = q->n - 1; i >= 0; i--) {
                double y = py(&fr, q->lo[i]);
                if (!isnan(y))
                    fprintf(f, "%s%.1f %.1f ", first ? "M" : "L", px(&fr, q->x[i]), y), first = 0;
            }
            fputs(first ? "M0 0\"/>\n" : "Z\"/>\n", f);
        }
        fprintf(f, "<path fill=\"none\" stroke=\"%s\" stroke-width=\"2\" stroke-linejoin=\"round\"%s%s%s d=\"",
                q->color, q->dash ? " stroke-dasharray=\"" : "", q->dash ? q->dash : "",
                q->dash ? "\"" : "");
        int pen = 0, any = 0;
        for (int i = 0; i < q->n; i++) {
            double y = py(&fr, q->y[i]);
            if (isnan(y) || y < fr.y0 - 1 || y > fr.y0 + fr.h + 1) {
                pen = 0;
                continue;
            }
            fprintf(f, "%s%.1f %.1f ", pen ? "L" : "M", px(&fr, q->x[i]), y);
            pen = any = 1;
        }
        fputs(any ? "\">" : "M0 0\">", f);
        fputs("<title>", f);
        html_text(f, q->label);
        fputs("</title></path>\n", f);
        if (q->n <= 40)
            for (int i = 0; i < q->n; i++) {
                double y = py(&fr, q->y[i]);
                if (!isnan(y) && y >= fr.y0 - 1 && y <= fr.y0 + fr.h + 1) {
                    fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"2.6\" fill=\"%s\"><title>",
                            px(&fr, q->x[i]), y, q->color);
                    html_text(f, q->label);
                    fprintf(f, ", %s %g: ", c->xlabel ? c->xlabel : "x", q->x[i]);
                    if (c->percent_y)
                        fprintf(f, "%.2f%%", 100 * q->y[i]);
                    else
                        fprintf(f, "%.4g", q->y[i]);
                    if (q->lo && q->hi && !isnan(q->lo[i]))
                        fprintf(f, c->percent_y ? " (%.2f%% to %.2f%%)" : " (%.4g to %.4g)",
                                (c->percent_y ? 100 : 1) * q->lo[i], (c->percent_y ? 100 : 1) * q->hi[i]);
                    fputs("</title></circle>\n", f);
                }
            }
    }
    if (c->legend)
        legend(f, c, &fr, s, n_series);
    no_data(f, &fr, s, n_series);
    fputs("</svg>\n", f);
}

void svg_bar_chart(FILE *f, const svg_chart *c, const char *const *cats, int n_cats,
                   const svg_series *s, int n_series)
{
    frame fr = { .x0 = 62, .y0 = 32, .w = c->width - 62 - (c->legend ? 150 : 18),
                 .h = c->height - 32 - 62, .xmin = 0, .xmax = n_cats };
    y_range(&fr, c, s, n_series);
    if (!c->logy && isnan(c->ymin) && fr.ymin > 0)
        fr.ymin = 0;

    open_svg(f, c, n_series);
    y_axis(f, &fr, c);
    double band = fr.w / n_cats, bw = band * 0.8 / n_series;
    int labels = n_cats * n_series <= 40;
    char buf[64];
    for (int i = 0; i < n_cats; i++) {
        double x0 = fr.x0 + i * band + band * 0.1;
        fprintf(f, "<text transform=\"translate(%.1f %.1f) rotate(-30)\" text-anchor=\"end\">",
                fr.x0 + (i + 0.5) * band + 4, fr.y0 + fr.h + 16);
        html_text(f, cats[i]);
        fputs("</text>\n", f);
        for (int k = 0; k < n_series; k++) {
            double v = s[k].y[i], x = x0 + k * bw, base = fr.y0 + fr.h, y = py(&fr, v);
            const char *color = s[k].color ? s[k].color : svg_color(i);
            if (isnan(y)) {
                text(f, x + bw / 2, base - 4, "middle", " font-size=\"10\" fill=\"#777777\"", "n/a");
                continue;
            }
            y = fmax(fr.y0, fmin(base, y));
            if (c->logy) { /* no bar from an arbitrary floor: a dot, on a stem from ref_y */
                double from = isnan(c->ref_y) ? NAN : py(&fr, c->ref_y);
                if (!isnan(from))
                    fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
                            "stroke=\"%s\" stroke-width=\"2\"/>\n", x + bw / 2, from, x + bw / 2, y, color);
                fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"5\" fill=\"%s\"><title>", x + bw / 2, y, color);
            } else {
                fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\">"
                        "<title>", x + 1, y, fmax(bw - 2, 1), base - y, color);
            }
            html_text(f, cats[i]);
            if (s[k].label) {
                fputs(", ", f);
                html_text(f, s[k].label);
            }
            fprintf(f, ": %.3g%s</title>%s\n", c->percent_y ? 100 * v : v, c->percent_y ? "%" : "",
                    c->logy ? "</circle>" : "</rect>");
            if (labels) {
                if (c->percent_y)
                    snprintf(buf, sizeof buf, "%.1f%%", 100 * v);
                else
                    snprintf(buf, sizeof buf, "%.2g", v);
                text(f, x + bw / 2, y - 3, "middle", " font-size=\"10\"", buf);
            }
        }
    }
    if (c->legend) {
        svg_series legend_s[8] = { { 0 } };
        int n = n_series < 8 ? n_series : 8;
        for (int k = 0; k < n; k++) {
            legend_s[k] = s[k];
            if (!legend_s[k].color)
                legend_s[k].color = "#777777";
        }
        legend(f, c, &fr, legend_s, n);
    }
    no_data(f, &fr, s, n_series);
    fputs("</svg>\n", f);
}

void svg_ci_chart(FILE *f, const svg_chart *c, const char *const *cats, int n_cats,
                  const double *mean, const double *lo, const double *hi, const int *mark)
{
    /* the y axis spans the intervals (zoomed to the data, not 0..100%) */
    double ymin = INFINITY, ymax = -INFINITY;
    double *clo = malloc(sizeof(double) * (size_t)(2 * n_cats + 1));
    if (!clo)
        return;
    double *chi = clo + n_cats;
    for (int i = 0; i < n_cats; i++) { /* an accuracy's interval stops at 0% and 100% */
        clo[i] = c->percent_y ? fmax(lo[i], 0.0) : lo[i];
        chi[i] = c->percent_y ? fmin(hi[i], 1.0) : hi[i];
    }
    lo = clo;
    hi = chi;
    for (int i = 0; i < n_cats; i++) {
        double a = isnan(lo[i]) ? mean[i] : lo[i], b = isnan(hi[i]) ? mean[i] : hi[i];
        if (!isnan(a))
            ymin = fmin(ymin, a), ymax = fmax(ymax, b);
    }
    double pad = isfinite(ymin) ? fmax((ymax - ymin) * 0.15, 1e-4) : 0;
    svg_series one = { c->ylabel, "#4e79a7", NULL, n_cats, NULL, mean, lo, hi };
    svg_chart cc = *c;
    cc.ymin = isfinite(ymin) ? ymin - pad : NAN;
    cc.ymax = isfinite(ymax) ? ymax + pad : NAN;
    frame fr = { .x0 = 62, .y0 = 32, .w = c->width - 62 - 18, .h = c->height - 32 - 92,
                 .xmin = 0, .xmax = n_cats };
    y_range(&fr, &cc, &one, 1);
    open_svg(f, &cc, 1);
    y_axis(f, &fr, &cc);
    double band = fr.w / n_cats;
    for (int i = 0; i < n_cats; i++) {
        double x = fr.x0 + (i + 0.5) * band;
        fprintf(f, "<text transform=\"translate(%.1f %.1f) rotate(-30)\" text-anchor=\"end\">",
                x + 4, fr.y0 + fr.h + 16);
        html_text(f, cats[i]);
        fputs("</text>\n", f);
        double y = py(&fr, mean[i]);
        if (isnan(mean[i]) || isnan(y)) {
            text(f, x, fr.y0 + fr.h - 4, "middle", " font-size=\"10\" fill=\"#777777\"", "n/a");
            continue;
        }
        const char *color = mark && mark[i] == 2 ? "#e15759" : mark && mark[i] == 1 ? "#f28e2b" : "#4e79a7";
        if (!isnan(lo[i]) && !isnan(hi[i])) /* the 95% confidence interval */
            fprintf(f, "<path d=\"M%.1f %.1fL%.1f %.1fM%.1f %.1fL%.1f %.1fM%.1f %.1fL%.1f %.1f\" "
                    "stroke=\"%s\" stroke-width=\"1.5\" fill=\"none\"/>\n", x, py(&fr, lo[i]), x,
                    py(&fr, hi[i]), x - 5, py(&fr, lo[i]), x + 5, py(&fr, lo[i]), x - 5,
                    py(&fr, hi[i]), x + 5, py(&fr, hi[i]), color);
        fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"4\" fill=\"%s\"><title>", x, y, color);
        html_text(f, cats[i]);
        if (!isnan(lo[i]))
            fprintf(f, ": %.2f%% (95%% CI %.2f to %.2f)", 100 * mean[i], 100 * lo[i], 100 * hi[i]);
        else
            fprintf(f, ": %.2f%%", 100 * mean[i]);
        fputs("</title></circle>\n", f);
    }
    fputs("</svg>\n", f);
    free(clo);
}
