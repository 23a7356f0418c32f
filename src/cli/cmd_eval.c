/* cmd_eval.c: `tinymlp eval MODEL --data NAME`: accuracy, per-class accuracy and the confusion
 * matrix of a saved model on a dataset's test set (or its only set). */
#include <getopt.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

#include "cli.h"
#include "datasets.h"

static void help(void)
{
    printf("usage: tinymlp eval MODEL [--data NAME] [--json]\n"
           "\n"
           "Evaluates a saved model: accuracy, loss, per-class accuracy and the confusion matrix\n"
           "(rows: true class, columns: predicted class).\n"
           "\n"
           "  --data NAME    as for train; the test set is used when the data has one    [the\n"
           "                 data the model was trained on, from its metadata]\n"
           "  --csv-header W yes, no or auto: whether a CSV file's first row is a header\n"
           "                 [as in training when the data is the training data, else auto]\n"
           "  --label-col N  a CSV file's label column, 0-based; -1 the last\n"
           "                 [as in training when the data is the training data, else -1]\n"
           "  --plugin FILE  load the plugin the model's activation comes from (repeatable)\n"
           "  --threads N    threads sharing the GEMMs and activations (0: by size)       [0]\n"
           "  --json         print one JSON object on stdout instead of the table\n"
           "  -h, --help     this text\n");
}

/* The CSV settings training used (train puts them in its "config" metadata when they were
 * not the defaults), into whichever of header, label_col and classes is not NULL. */
static void saved_csv(const tmlp_model_meta *meta, int *header, int *label_col, int *classes)
{
    const char *text = tmlp_model_meta_get(meta, "config");
    cJSON *cfg = text ? cJSON_Parse(text) : NULL;
    const cJSON *h = cJSON_GetObjectItemCaseSensitive(cfg, "csv_header");
    const cJSON *l = cJSON_GetObjectItemCaseSensitive(cfg, "label_col");
    if (header && cJSON_IsString(h))
        cli_csv_header(h->valuestring, header);
    if (label_col && cJSON_IsNumber(l) && l->valuedouble >= -1 && l->valuedouble <= (1 << 20))
        *label_col = (int)l->valuedouble;
    const cJSON *k = cJSON_GetObjectItemCaseSensitive(cfg, "classes");   /* train --classes */
    if (classes && cJSON_IsNumber(k) && k->valuedouble >= 2 &&
        k->valuedouble <= TMLP_CSV_MAX_CLASSES)
        *classes = (int)k->valuedouble;
    cJSON_Delete(cfg);
}

/* The confusion matrix as its nonzero cells: true * k + predicted, sorted. */
typedef struct confusion {
    int k;
    size_t n;
    uint64_t *cell;   /* (n) */
    long *row, *diag; /* (k) each: rows per true class, and those predicted right */
} confusion;

static int cmp_cell(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* The count of cell (t, p), read in row order: *at walks cm->cell once over all calls. */
static long next_count(const confusion *cm, size_t *at, int t, int p)
{
    uint64_t key = (uint64_t)t * (uint64_t)cm->k + (uint64_t)p;
    long n = 0;
    while (*at < cm->n && cm->cell[*at] == key)
        n++, (*at)++;
    return n;
}

/* A number as cJSON writes one (the shortest of 15 or 17 digits that reads back the same);
 * never NaN or inf, which JSON has no words for: those are null. */
static void json_number(double v)
{
    char buf[32];
    if (!isfinite(v)) {
        fputs("null", stdout);
        return;
    }
    snprintf(buf, sizeof buf, "%1.15g", v);
    if (strtod(buf, NULL) != v)
        snprintf(buf, sizeof buf, "%1.17g", v);
    fputs(buf, stdout);
}

/* --json: the small fields through cJSON (it escapes the strings), then the per-class
 * accuracies and the matrix streamed row by row. Every allocation is checked. */
static int eval_json(const char *path, const char *data, const char *split, int n, double acc,
                     double loss, const confusion *cm, tmlp_err *err)
{
    cJSON *j = cJSON_CreateObject();
    int ok = j && cJSON_AddStringToObject(j, "model", path) &&
             cJSON_AddStringToObject(j, "data", data) &&
             cJSON_AddStringToObject(j, "split", split) &&
             cJSON_AddNumberToObject(j, "samples", n) &&
             cJSON_AddNumberToObject(j, "accuracy", acc) &&
             cJSON_AddNumberToObject(j, "loss", loss);
    char *head = ok ? cJSON_PrintUnformatted(j) : NULL;
    cJSON_Delete(j);
    if (!head)
        return tmlp_fail(err, TMLP_ENOMEM, "--json: no memory");
    size_t len = strlen(head);                      /* "{...}": written without its '}' */
    fwrite(head, 1, len - 1, stdout);
    free(head);
    fputs(",\"per_class_accuracy\":[", stdout);
    for (int t = 0; t < cm->k; t++) {
        if (t)
            putchar(',');
        if (cm->row[t])
            json_number((double)cm->diag[t] / cm->row[t]);
        else
            fputs("null", stdout);
    }
    fputs("],\"confusion\":[", stdout);
    size_t at = 0;
    for (int t = 0; t < cm->k && !ferror(stdout); t++) {
        putchar(t ? ',' : '[');
        if (t)
            putchar('[');
        for (int p = 0; p < cm->k; p++) {
            long c = next_count(cm, &at, t, p);
            if (c)
                printf(p ? ",%ld" : "%ld", c);
            else
                fputs(p ? ",0" : "0", stdout);     /* most cells: no printf */
        }
        putchar(']');
    }
    fputs("]}\n", stdout);
    return TMLP_OK;
}

int cmd_eval(int argc, char **argv)
{
    int plugin_rc = cli_plugins_take("eval", &argc, argv); /* --plugin FILE */
    if (plugin_rc)
        return plugin_rc;
    static const struct option options[] = {
        { "data", required_argument, 0, 'd' }, { "json", no_argument, 0, 'j' },
        { "threads", required_argument, 0, 't' }, { "help", no_argument, 0, 'h' },
        { "csv-header", required_argument, 0, 'H' }, { "label-col", required_argument, 0, 'L' },
        { 0, 0, 0, 0 },
    };
    const char *data = NULL, *path = NULL;
    int json = 0, c, header_given = 0, label_given = 0;
    tmlp_csv_opts csv = tmlp_csv_defaults();
    int rc;
    long threads = 0;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
        switch (c) {
        case 'h': help(); return 0;
        case 'd': data = optarg; break;
        case 'j': json = 1; break;
        case 'H':
            if ((rc = cli_csv_header_arg("eval", optarg, &csv.header)))
                return rc;
            header_given = 1;
            break;
        case 'L':
            if ((rc = cli_label_col_arg("eval", optarg, &csv.label_col)))
                return rc;
            label_given = 1;
            break;
        case 't':
            if (!cli_int(optarg, 0, 256, &threads))
                return cli_usage_error("eval", "--threads wants an integer in 0..256, got '%s'", optarg);
            break;
        case ':': return cli_usage_error("eval", "%s needs a value", argv[optind - 1]);
        default: return cli_usage_error("eval", "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind != argc - 1)
        return cli_usage_error("eval", "give exactly one model file");
    path = argv[optind];

    tmlp_err err = { 0 };
    tmlp_model_meta meta = { 0 };
    cli_dataset ds = { 0 };
    cli_prep prep = { 0 };
    confusion cm = { 0 };
    tmlp_team *team = NULL;
    int status = EXIT_RUNTIME;
    tmlp_net *net = tmlp_model_read(path, 256, &meta, &err);
    if (!net)
        return cli_fail(&err, 0);
    if (!data)
        data = tmlp_model_meta_get(&meta, "data");
    if (!data) {
        status = cli_usage_error("eval", "the model does not say what data it was trained on: give --data");
        goto done;
    }
    team = cli_team(net, NULL, 256, threads); /* evaluation runs batches of 256 rows */
    const char *trained_on = tmlp_model_meta_get(&meta, "data");
    if (trained_on && !strcmp(data, trained_on))
        saved_csv(&meta, header_given ? NULL : &csv.header, label_given ? NULL : &csv.label_col,
                  &csv.n_classes);
    if (cli_dataset_load(data, &csv, &ds, &err) ||
        cli_prep_load(&prep, &meta, tmlp_net_n_in(net), &err)) {
        status = cli_fail(&err, err.code == TMLP_ENOTFOUND || err.code == TMLP_EINVAL ? EXIT_USAGE : 0);
        goto done;
    }
    tmlp_data *d = ds.test ? ds.test : ds.train;
    cli_prep_apply(&prep, d);
    double loss, acc;
    if (tmlp_evaluate(net, d, &loss, &acc, &err)) {
        status = cli_fail(&err, 0);
        goto done;
    }
    int k = tmlp_net_n_out(net) == 1 ? 2 : tmlp_net_n_out(net);
    int *pred = malloc((size_t)d->n * sizeof *pred);
    cm.cell = malloc((size_t)d->n * sizeof *cm.cell);
    cm.row = calloc((size_t)k, sizeof *cm.row);
    cm.diag = calloc((size_t)k, sizeof *cm.diag);
    if (!pred || !cm.cell || !cm.row || !cm.diag || tmlp_classify(net, d->x, d->n, pred, &err)) {
        if (!pred || !cm.cell || !cm.row || !cm.diag)
            tmlp_fail(&err, TMLP_ENOMEM, "no memory for %d rows of %d classes", d->n, k);
        free(pred);
        status = cli_fail(&err, 0);
        goto done;
    }
    /* The matrix is k x k but has at most n nonzero cells: they are kept as sorted (true,
     * predicted) pairs and the rows written out as they stream, zeros filled in, so memory
     * and time stay O(n + k) beside the O(k^2) text itself (8192 classes: 64M cells). */
    cm.k = k;
    for (int i = 0; i < d->n; i++)
        if (d->label[i] >= 0 && d->label[i] < k) {
            cm.cell[cm.n++] = (uint64_t)d->label[i] * (uint64_t)k + (uint64_t)pred[i];
            cm.row[d->label[i]]++;
            cm.diag[d->label[i]] += pred[i] == d->label[i];
        }
    free(pred);
    qsort(cm.cell, cm.n, sizeof *cm.cell, cmp_cell);

    if (json) {
        if (eval_json(path, data, ds.test ? "test" : "all", d->n, acc, loss, &cm, &err)) {
            status = cli_fail(&err, 0);
            goto done;
        }
    } else {
        printf("%s on %s (%s, %d samples)\n", path, data, ds.test ? "test set" : "all rows", d->n);
        printf("accuracy: %.2f%% (%ld/%d)  loss %.4f\n\n", 100.0 * acc, lround(acc * d->n), d->n, loss);
        printf("confusion matrix (rows: true class, columns: predicted)\n      ");
        for (int p = 0; p < k; p++)
            printf("%6d", p);
        printf("   accuracy\n");
        size_t at = 0;
        for (int t = 0; t < k; t++) {
            printf("%6d", t);
            for (int p = 0; p < k; p++) {
                long n_tp = next_count(&cm, &at, t, p);
                if (n_tp)
                    printf("%6ld", n_tp);
                else
                    fputs("     0", stdout);
            }
            if (cm.row[t])
                printf("   %6.2f%%\n", 100.0 * cm.diag[t] / cm.row[t]);
            else
                printf("        -\n");
        }
    }
    status = 0;
done:
    free(cm.cell);
    free(cm.row);
    free(cm.diag);
    cli_prep_free(&prep);
    cli_dataset_free(&ds);
    tmlp_model_meta_free(&meta);
    tmlp_net_free(net);
    tmlp_team_free(team);
    return status;
}
