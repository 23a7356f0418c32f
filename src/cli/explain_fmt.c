/* explain_fmt.c: how `tinymlp explain` prints a matrix: its equation and shape, then the
 * numbers in aligned columns (the corners of a big one), or the whole of it as JSON arrays. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "explain.h"

/* printf, in text mode only. */
void explain_say(const out *o, const char *fmt, ...)
{
    if (o->json)
        return;
    va_list ap;
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
}

/* The indices of n shown: all of them, or the first 4 and last 2 with -1 for the gap. */
static int shown(int n, int *idx)
{
    int k = 0;
    for (int i = 0; i < n; i++) {
        if (n > SHOW && i >= 4 && i < n - 2)
            continue;
        if (n > SHOW && i == n - 2)
            idx[k++] = -1;
        idx[k++] = i;
    }
    return k;
}

/* How a block's numbers are written: whole numbers bare, otherwise six decimals, or the
 * exponent form when the block's largest entry is below 1e-3 or above 1e5. */
typedef struct numfmt {
    int integral, expo, w;
} numfmt;

static void num(char *buf, size_t size, float v, const numfmt *f)
{
    snprintf(buf, size, f->integral ? "%.0f" : f->expo ? "%.4e" : "%.6f", (double)v);
}

static numfmt fmt_of(const float *v, size_t n)
{
    numfmt f = { 1, 0, 1 };
    float big = 0.0f;
    for (size_t i = 0; i < n; i++) {
        big = fabsf(v[i]) > big ? fabsf(v[i]) : big;
        f.integral &= v[i] == nearbyintf(v[i]) && fabsf(v[i]) < 1e6f;
    }
    f.expo = !f.integral && (big >= 1e5f || big < 1e-3f);
    for (size_t i = 0; i < n; i++) {
        char b[32];
        num(b, sizeof b, v[i], &f);
        f.w = (int)strlen(b) > f.w ? (int)strlen(b) : f.w;
    }
    return f;
}

/* Prints row r of a (rows, cols) block, the corner columns of a wide one; returns its width. */
static int print_row(const float *v, int r, int cols, const numfmt *f)
{
    int idx[SHOW + 4], k = shown(cols, idx);
    for (int t = 0; t < k; t++) {
        int c = idx[t];
        char b[32] = "...";
        if (c >= 0)
            num(b, sizeof b, v[(size_t)r * cols + c], f);
        printf("%s%*s", t ? "  " : "", f->w, b);
    }
    return k * f->w + 2 * (k - 1);
}

static cJSON *json_mat(const float *v, int rows, int cols, int vec)
{
    cJSON *a = cJSON_CreateArray();
    for (int r = 0; r < rows; r++) {
        cJSON *row = vec ? a : cJSON_CreateArray();
        for (int c = 0; c < cols; c++)
            cJSON_AddItemToArray(row, cJSON_CreateNumber((double)v[(size_t)r * cols + c]));
        if (!vec)
            cJSON_AddItemToArray(a, row);
    }
    return a;
}

/* The rows of k blocks of one shape side by side, separated by " | ", under optional heads. */
static void print_blocks(int k, const float *const *m, const char *const *head, int rows,
                         int cols)
{
    numfmt f[3];
    int w[3], idx[SHOW + 4], n = shown(rows, idx), kc = cols <= SHOW ? cols : 7;
    for (int j = 0; j < k; j++) {
        f[j] = fmt_of(m[j], (size_t)rows * cols);
        w[j] = kc * f[j].w + 2 * (kc - 1);
        w[j] = head && (int)strlen(head[j]) > w[j] ? (int)strlen(head[j]) : w[j];
    }
    for (int j = 0; head && j < k; j++)
        printf(j ? "   %-*s" : "      %-*s", j + 1 < k ? w[j] : 0, head[j]);
    printf(head ? "\n" : "");
    for (int t = 0; t < n; t++) {
        int r = idx[t];
        printf("      ");
        for (int j = 0; j < k; j++) {
            printf(j ? " | " : "");
            int used = r >= 0 ? print_row(m[j], r, cols, &f[j]) : printf("...");
            printf("%*s", j + 1 < k ? w[j] - used : 0, "");
        }
        printf("\n");
    }
}

/* Prints the equation (printf-style), the shape and the block, or adds the block to the JSON
 * object as key. vec: a 1-D vector of cols entries (rows is 1). */
void explain_show(out *o, const char *key, const float *v, int rows, int cols, int vec,
                 const char *fmt, ...)
{
    if (o->json) {
        cJSON_AddItemToObject(o->obj, key, json_mat(v, rows, cols, vec));
        return;
    }
    char eq[256], shape[48];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(eq, sizeof eq, fmt, ap);
    va_end(ap);
    snprintf(shape, sizeof shape, vec ? "(%d)" : "(%d, %d)", vec ? cols : rows, cols);
    int pad = 66 - (int)strlen(shape);
    for (const char *c = eq; *c; c++)  /* minus the printed width: one column per character */
        pad -= ((unsigned char)*c & 0xC0) != 0x80;
    printf("  %s%*s%s\n", eq, pad > 2 ? pad : 2, "", shape);
    print_blocks(1, &v, NULL, rows, cols);
}

/* One parameter tensor's update: before | gradient | after, side by side when it fits. */
void explain_show_update(out *o, const char *key, const char *name, const float *before,
                        const float *grad, const float *after, int rows, int cols, int vec)
{
    char eq[64], gname[32];
    if (o->json) {
        snprintf(eq, sizeof eq, "%s_after", key);
        cJSON_AddItemToObject(o->obj, eq, json_mat(after, rows, cols, vec));
        return;
    }
    if (cols <= SHOW) {  /* side by side */
        snprintf(gname, sizeof gname, "d%s", name);
        snprintf(eq, sizeof eq, vec ? "%s  (%d)" : "%s  (%d, %d)", name, vec ? cols : rows, cols);
        const float *m[3] = { before, grad, after };
        const char *head[3] = { "before", gname, "after" };
        printf("  %s\n", eq);
        print_blocks(3, m, head, rows, cols);
        return;
    }
    explain_show(o, key, before, rows, cols, vec, "%s before", name);
    explain_show(o, key, grad, rows, cols, vec, "d%s", name);
    explain_show(o, key, after, rows, cols, vec, "%s after", name);
}

