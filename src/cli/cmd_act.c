/* cmd_act.c: `tinymlp act NAMES [--x POINTS] [--csv]` and `tinymlp act --list`: activation
 * values and derivatives, as an aligned table or as CSV. */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

#include "cli.h"

#define DEFAULT_X "-3:3:0.5"
#define MAX_POINTS 1000000    /* --x points in all */
#define MAX_ROW_POINTS 4096   /* for row-wise activations: n backward passes of n each */
#define MAX_ACTS 256

static void help(void)
{
    printf(
"usage: tinymlp act NAME[,NAME...]... [--x POINTS] [--csv | --json]\n"
"       tinymlp act --list [--json]\n"
"\n"
"Prints each activation's value f(x) and derivative f'(x) at the given points.\n"
"\n"
"  NAME              an activation, with its argument if it takes one (leaky_relu:0.2,\n"
"                    softplus:2), or `all` for every known activation at its default\n"
"                    argument. Names may be joined by commas or given as separate words.\n"
"  --x POINTS        the points x: a list A,B,C,... or a range A:B:STEP (A, A+STEP, ...,\n"
"                    up to B inclusive; STEP > 0)                    [" DEFAULT_X "]\n"
"  --csv             print CSV with the header name,x,y,dydx (%%.9g numbers) instead of a\n"
"                    table\n"
"  --plugin FILE.so  load activations from a plugin (repeatable)\n"
"  --json            print one JSON object instead: {\"activations\": [{\"name\",\n"
"                    \"rowwise\", \"x\": [...], \"y\": [...], \"dydx\": [...]}, ...]};\n"
"                    a value that is not finite is null. With --list: {\"activations\":\n"
"                    [{\"name\", \"range\", \"formula\", \"arg\" (null if none),\n"
"                    \"learnable\", \"rowwise\"}, ...]}\n"
"  --list            list the known activations with formula and output range\n"
"  -h, --help        this text\n"
"\n"
"Learnable parameters (prelu's slopes, swish_learnable's beta) are at their initial values.\n"
"Row-wise activations (softmax, log_softmax) take all of --x as ONE row vector: y is the\n"
"output vector and dydx the diagonal of the Jacobian, dy_j/dx_j (the table says so).\n"
"\n"
"Exit status: 0 success, 1 runtime error, 2 usage error (e.g. an unknown name).\n");
}

/* Every known name, comma separated, into a new string (NULL if out of memory). */
static char *known_names(void)
{
    size_t size = 16;
    for (int i = 0; i < tmlp_act_count(); i++)
        size += strlen(tmlp_act_at(i)->name) + 2;
    char *s = malloc(size);
    if (!s)
        return NULL;
    s[0] = '\0';
    for (int i = 0; i < tmlp_act_count(); i++) {
        if (i)
            strcat(s, ", ");
        strcat(s, tmlp_act_at(i)->name);
    }
    return s;
}

/* --list --json: every activation's description as one JSON object. */
static int list_json(void)
{
    cJSON *root = cJSON_CreateObject(), *arr = root ? cJSON_AddArrayToObject(root, "activations")
                                                    : NULL;
    for (int i = 0; arr && i < tmlp_act_count(); i++) {
        const tmlp_act *a = tmlp_act_at(i);
        cJSON *o = cJSON_CreateObject();
        cJSON_AddItemToArray(arr, o);
        cJSON_AddStringToObject(o, "name", a->name);
        cJSON_AddStringToObject(o, "range", a->range ? a->range : "?");
        cJSON_AddStringToObject(o, "formula", a->formula ? a->formula : "?");
        if (a->flags & TMLP_ACT_HAS_ARG)
        {
            char num[32]; /* the float as typed: 0.01, not 0.0099999997764825821 */
            snprintf(num, sizeof num, "%g", (double)a->arg);
            cJSON_AddNumberToObject(o, "arg", strtod(num, NULL));
        }
        else
            cJSON_AddNullToObject(o, "arg");
        cJSON_AddBoolToObject(o, "learnable", a->params != TMLP_ACT_PARAM_NONE);
        cJSON_AddBoolToObject(o, "rowwise", (a->flags & TMLP_ACT_ROWWISE) != 0);
    }
    int rc = cli_print_json(arr ? root : NULL);
    cJSON_Delete(root);
    return rc;
}

/* One JSON array of n numbers, null for those that are not finite. */
static void json_numbers(const char *key, const float *v, int n)
{
    printf("\"%s\":[", key);
    for (int i = 0; i < n; i++) {
        if (isfinite(v[i]))
            printf("%s%.9g", i ? "," : "", (double)v[i]);
        else
            printf("%snull", i ? "," : "");
    }
    printf("]");
}

static int list(void)
{
    int w = 4;
    for (int i = 0; i < tmlp_act_count(); i++) {
        int n = (int)strlen(tmlp_act_at(i)->name);
        w = n > w ? n : w;
    }
    printf("%-*s  %-28s  %s\n", w, "name", "range", "formula");
    for (int i = 0; i < tmlp_act_count(); i++) {
        const tmlp_act *a = tmlp_act_at(i);
        printf("%-*s  %-28s  %s\n", w, a->name, a->range ? a->range : "?",
               a->formula ? a->formula : "?");
    }
    return 0;
}

/* Parses --x: "A,B,C" or "A:B:STEP" into a new array *xs of *n points. Returns 0 or the
 * exit status of a usage error (already reported). */
static int parse_points(const char *s, float **xs, int *n)
{
    *xs = NULL;
    *n = 0;
    if (strchr(s, ':')) {
        char buf[128], *p1, *p2;
        double a, b, step;
        if (strlen(s) >= sizeof buf)
            return cli_usage_error("act", "--x range '%.40s...' is too long", s);
        strcpy(buf, s);
        p1 = strchr(buf, ':');
        *p1++ = '\0';
        p2 = strchr(p1, ':');
        if (!p2)
            return cli_usage_error("act", "--x range '%s' wants A:B:STEP", s);
        *p2++ = '\0';
        if (!cli_float(buf, &a) || !cli_float(p1, &b) || !cli_float(p2, &step))
            return cli_usage_error("act", "--x range '%s' wants three numbers A:B:STEP", s);
        if (!(step > 0) || b < a)
            return cli_usage_error("act", "--x range '%s' needs A <= B and STEP > 0", s);
        double count = floor((b - a) / step * (1.0 + 1e-12) + 1e-9) + 1.0;
        if (count > MAX_POINTS)
            return cli_usage_error("act", "--x range '%s' has %.0f points (at most %d)", s, count,
                                   MAX_POINTS);
        *n = (int)count;
        if (!(*xs = malloc((size_t)*n * sizeof **xs)))
            return EXIT_RUNTIME;
        for (int i = 0; i < *n; i++)
            (*xs)[i] = (float)(a + i * step);   /* a + i*step, not a running sum: no drift */
        return 0;
    }
    int cap = 1;
    for (const char *p = s; *p; p++)
        cap += *p == ',';
    if (cap > MAX_POINTS)
        return cli_usage_error("act", "--x lists more than %d points", MAX_POINTS);
    if (!(*xs = malloc((size_t)cap * sizeof **xs)))
        return EXIT_RUNTIME;
    for (const char *p = s;; p++) {
        size_t len = strcspn(p, ",");
        char buf[64];
        double v;
        if (len == 0 || len >= sizeof buf)
            return cli_usage_error("act", "--x '%s': %s", s, len ? "a number is too long"
                                                                   : "empty item (two commas?)");
        memcpy(buf, p, len);
        buf[len] = '\0';
        if (!cli_float(buf, &v) || fabs(v) > 3.4028234663852886e38)
            return cli_usage_error("act", "--x '%s': '%s' is not a finite float", s, buf);
        (*xs)[(*n)++] = (float)v;
        p += len;
        if (!*p)
            return 0;
    }
}

typedef struct spec {
    const tmlp_act *act;
    float arg;
    char label[96];
} spec;

/* Adds one NAME (or `all`) to specs. Returns 0 or a usage-error exit status. */
static int add_spec(const char *name, spec *specs, int *n)
{
    if (!strcmp(name, "all")) {
        for (int i = 0; i < tmlp_act_count(); i++) {
            if (*n == MAX_ACTS)
                return cli_usage_error("act", "too many activations (at most %d)", MAX_ACTS);
            spec *s = &specs[(*n)++];
            s->act = tmlp_act_at(i);
            s->arg = s->act->arg;
            tmlp_act_format(s->act, s->arg, s->label, sizeof s->label);
        }
        return 0;
    }
    if (*n == MAX_ACTS)
        return cli_usage_error("act", "too many activations (at most %d)", MAX_ACTS);
    spec *s = &specs[*n];
    tmlp_err err = { 0 };
    int rc = tmlp_act_parse(name, &s->act, &s->arg, &err);
    if (rc == TMLP_ENOTFOUND) {
        char *names = known_names(), typed[64];
        snprintf(typed, sizeof typed, "%.*s", (int)strcspn(name, ":"), name);
        const tmlp_act *near = tmlp_act_suggest(typed);
        fprintf(stderr, "tinymlp act: unknown activation '%s' (%s%s%sknown: %s, or all)\n", typed,
                near ? "did you mean '" : "", near ? near->name : "", near ? "'? " : "",
                names ? names : "see tinymlp act --list");
        free(names);
        return EXIT_USAGE;
    }
    if (rc) {
        fprintf(stderr, "tinymlp act: %s\n", err.msg);
        return EXIT_USAGE;
    }
    tmlp_act_format(s->act, s->arg, s->label, sizeof s->label);
    (*n)++;
    return 0;
}

/* y = f(x) and d = f'(x) for the n points: elementwise as n rows of one unit; row-wise as one
 * row, with d the Jacobian diagonal from one backward pass per point (dy = e_j). */
static int evaluate(const spec *s, const float *x, int n, float *y, float *d)
{
    const tmlp_act *a = s->act;
    int rowwise = (a->flags & TMLP_ACT_ROWWISE) != 0;
    int rows = rowwise ? 1 : n, cols = rowwise ? n : 1;
    int np = tmlp_act_n_params(a, cols);
    float *buf = calloc((size_t)2 * n + 2 * (size_t)np + 2, sizeof *buf);
    if (!buf)
        return EXIT_RUNTIME;
    float *dy = buf, *dx = dy + n, *param = dx + n, *dparam = param + np + 1;
    for (int k = 0; k < np; k++)
        param[k] = a->param_init;
    const float *pp = np ? param : NULL;
    a->forward(rows, cols, x, y, s->arg, pp);
    if (!rowwise) {
        for (int i = 0; i < n; i++)
            dy[i] = 1.0f;
        a->backward(rows, cols, x, y, dy, d, s->arg, pp, np ? dparam : NULL);
    } else {
        for (int j = 0; j < n; j++) {
            dy[j] = 1.0f;
            a->backward(1, n, x, y, dy, dx, s->arg, pp, np ? dparam : NULL);
            d[j] = dx[j];
            dy[j] = 0.0f;
        }
    }
    free(buf);
    return 0;
}

enum { O_X = 256, O_CSV, O_LIST, O_JSON };

static const struct option options[] = {
    { "x", required_argument, 0, O_X }, { "csv", no_argument, 0, O_CSV },
    { "list", no_argument, 0, O_LIST }, { "json", no_argument, 0, O_JSON },
    { "help", no_argument, 0, 'h' }, { 0, 0, 0, 0 },
};

int cmd_act(int argc, char **argv)
{
    int plugin_rc = cli_plugins_take("act", &argc, argv); /* --plugin FILE */
    if (plugin_rc)
        return plugin_rc;
    const char *xarg = DEFAULT_X;
    int csv = 0, json = 0, do_list = 0, c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
        switch (c) {
        case 'h': help(); return 0;
        case O_X: xarg = optarg; break;
        case O_CSV: csv = 1; break;
        case O_LIST: do_list = 1; break;
        case O_JSON: json = 1; break;
        case ':': return cli_usage_error("act", "%s needs a value", argv[optind - 1]);
        default: return cli_usage_error("act", "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (csv && json)
        return cli_usage_error("act", "--csv and --json exclude each other");
    if (do_list) {
        if (optind < argc)
            return cli_usage_error("act", "--list takes no names (got '%s')", argv[optind]);
        if (csv)
            return cli_usage_error("act", "--list prints a table or, with --json, JSON");
        return json ? list_json() : list();
    }
    if (optind >= argc)
        return cli_usage_error("act", "name at least one activation, or all");

    spec *specs = malloc(MAX_ACTS * sizeof *specs);
    float *xs = NULL, *y = NULL, *d = NULL;
    int n_specs = 0, n = 0, status = EXIT_RUNTIME;
    if (!specs)
        goto oom;
    for (int i = optind; i < argc; i++) {
        char *list_copy = strdup(argv[i]), *save = NULL;
        if (!list_copy)
            goto oom;
        int rc = 0;
        if (!*list_copy || strstr(list_copy, ",,") || list_copy[strlen(list_copy) - 1] == ',')
            rc = cli_usage_error("act", "empty name in '%s'", argv[i]);
        for (char *tok = strtok_r(list_copy, ",", &save); tok && !rc; tok = strtok_r(NULL, ",", &save))
            rc = add_spec(tok, specs, &n_specs);
        free(list_copy);
        if (rc) {
            status = rc;
            goto done;
        }
    }
    if ((status = parse_points(xarg, &xs, &n)) != 0)
        goto done;
    status = EXIT_RUNTIME;
    if (!(y = malloc((size_t)n * sizeof *y)) || !(d = malloc((size_t)n * sizeof *d)))
        goto oom;
    for (int s = 0; s < n_specs; s++)
        if ((specs[s].act->flags & TMLP_ACT_ROWWISE) && n > MAX_ROW_POINTS) {
            status = cli_usage_error("act", "%s is row-wise: at most %d points for it, got %d",
                                     specs[s].label, MAX_ROW_POINTS, n);
            goto done;
        }

    int w = 10;
    for (int s = 0; s < n_specs; s++) {
        int len = (int)strlen(specs[s].label);
        w = len > w ? len : w;
    }
    if (json)
        printf("{\"activations\":[");
    else if (csv)
        printf("name,x,y,dydx\n");
    else
        printf("%-*s  %14s  %14s  %14s\n", w, "activation", "x", "y", "dy/dx");
    for (int s = 0; s < n_specs; s++) {
        const spec *sp = &specs[s];
        if (evaluate(sp, xs, n, y, d))
            goto oom;
        if (json) { /* labels are registry names and %g numbers: nothing to escape */
            printf("%s{\"name\":\"%s\",\"rowwise\":%s,", s ? "," : "", sp->label,
                   (sp->act->flags & TMLP_ACT_ROWWISE) ? "true" : "false");
            json_numbers("x", xs, n);
            printf(",");
            json_numbers("y", y, n);
            printf(",");
            json_numbers("dydx", d, n);
            printf("}");
            continue;
        }
        if (!csv && (sp->act->flags & TMLP_ACT_ROWWISE))
            printf("# %s is row-wise: x is one row vector, y its output vector, dy/dx the "
                   "Jacobian diagonal dy_j/dx_j\n", sp->label);
        else if (!csv && sp->act->params != TMLP_ACT_PARAM_NONE)
            printf("# %s: learnable parameter at its initial value %g\n", sp->label,
                   (double)sp->act->param_init);
        for (int i = 0; i < n; i++) {
            if (csv)
                printf("%s,%.9g,%.9g,%.9g\n", sp->label, (double)xs[i], (double)y[i], (double)d[i]);
            else
                printf("%-*s  %14.7g  %14.7g  %14.7g\n", w, sp->label, (double)xs[i], (double)y[i],
                       (double)d[i]);
        }
        if (!csv && s + 1 < n_specs)
            printf("\n");
    }
    if (json)
        printf("]}\n");
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "tinymlp act: writing the output failed\n");
        goto done;
    }
    status = 0;
    goto done;
oom:
    fprintf(stderr, "tinymlp act: out of memory\n");
    status = EXIT_RUNTIME;
done:
    free(specs);
    free(xs);
    free(y);
    free(d);
    return status;
}
