/* study_io.c: a study's finished runs as files in its report folder, for resuming.
 *
 * DIR/finished/study.txt describes the study: the data (with a checksum of every prepared
 * value), the seeds and every configuration's resolved settings. Each finished run is one
 * file, DIR/finished/run-NNNNNN.bin, written atomically (atomic.h) the moment it ends, and
 * DIR/finished/complete marks a study that ran to the end. A study started again with the
 * same --report reads the runs back instead of training them again; a different study in a
 * folder whose study did not complete is refused, so finished runs are never mixed with runs
 * of other settings. The same bytes travel between MPI ranks (study_pack). Every byte read
 * back is checked: a run file is untrusted like any other. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomic.h"
#include "cli.h"
#include "datasets.h"
#include "paths.h"
#include "study.h"

static const char magic[8] = { 'T', 'M', 'L', 'P', 'R', 'U', 'N', '1' };

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 0x100000001b3ULL;
    return h;
}

uint64_t study_data_sum(uint64_t h, const tmlp_data *d)
{
    if (!h)
        h = 0xcbf29ce484222325ULL;
    if (!d)
        return fnv(h, "none", 4);
    int head[3] = { d->n, d->n_in, d->n_classes };
    h = fnv(h, head, sizeof head);
    h = fnv(h, d->x, (size_t)d->n * (size_t)d->n_in * sizeof *d->x);
    if (d->label)
        h = fnv(h, d->label, (size_t)d->n * sizeof *d->label);
    return h;
}

char *study_key(const cmp_study *s)
{
    char *text = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&text, &size);
    if (!f)
        return NULL;
    fprintf(f, "tinymlp study 1\ndata %s checksum %016llx train %d val %d %s %d\n", s->data,
            (unsigned long long)s->data_sum, s->n_train, s->n_val, s->eval_name, s->n_eval);
    fprintf(f, "seeds %llu +%d\nkeys", (unsigned long long)s->seed0, s->n_seeds);
    for (int k = 0; k < s->n_keys; k++)
        fprintf(f, " %s", s->key[k]);
    fputc('\n', f);
    for (int c = 0; c < s->n_cfg; c++) {
        const cmp_cfg *g = &s->cfg[c];
        char layers[4096];
        if (tmlp_net_spec_format(&g->spec, 1, layers, sizeof layers) != TMLP_OK)
            snprintf(layers, sizeof layers, "?");
        fprintf(f, "config %d %s\n  layers %s loss %d init", c, g->name, layers, g->spec.loss);
        for (int i = 0; i < g->spec.n_layers; i++)
            fprintf(f, " %d", g->spec.layer[i].init);
        fprintf(f, "\n  opt %d %.9g %.9g %.9g %.9g %.9g %.9g\n", g->opt.kind, (double)g->opt.lr,
                (double)g->opt.momentum, (double)g->opt.beta1, (double)g->opt.beta2,
                (double)g->opt.eps, (double)g->opt.weight_decay);
        fprintf(f, "  schedule %d %.9g %.9g %.9g %.9g %.9g %d\n", g->sched.kind,
                (double)g->sched.base_lr, (double)g->sched.warmup, (double)g->sched.step_size,
                (double)g->sched.gamma, (double)g->sched.min_lr, g->sched.patience);
        fprintf(f, "  train %d %d %.9g %.9g %d %d %.9g %d\n", g->train.epochs, g->train.batch,
                (double)g->train.clip_norm, (double)g->train.clip_value, g->train.early_stop,
                g->train.early_metric, (double)g->train.min_delta, g->train.on_nan);
    }
    if (fclose(f) != 0) {
        free(text);
        return NULL;
    }
    return text;
}

int study_set_key_hash(cmp_study *s)
{
    char *key = study_key(s);
    if (!key)
        return TMLP_ENOMEM;
    s->key_hash = fnv(0xcbf29ce484222325ULL, key, strlen(key));
    free(key);
    return TMLP_OK;
}

/* Record layout: magic, u32 version 1, u32 job, u64 key hash, i32 status, msg, i32 n_epochs,
 * i32 n_layers, epochs, layers, u64 FNV-1a of everything before it. */
int study_pack(const cmp_study *s, int job, const cmp_run *r, unsigned char **out, size_t *len)
{
    int nl = cmp_layers(s, job / s->n_seeds);
    size_t ne = (size_t)r->n_epochs, n = 8 + 4 + 4 + 8 + 4 + TMLP_ERR_MSG + 4 + 4 +
                ne * sizeof *r->epoch + ne * (size_t)nl * sizeof *r->layer + 8;
    unsigned char *b = calloc(1, n), *p = b;
    if (!b)
        return TMLP_ENOMEM;
    uint32_t version = 1, j = (uint32_t)job;
    int32_t st = r->status, e = r->n_epochs, l = nl;
    char msg[TMLP_ERR_MSG] = { 0 };
    snprintf(msg, sizeof msg, "%s", r->msg);
#define PUT(src, size) (memcpy(p, (src), (size)), p += (size))
    PUT(magic, 8);
    PUT(&version, 4);
    PUT(&j, 4);
    PUT(&s->key_hash, 8);
    PUT(&st, 4);
    PUT(msg, sizeof msg);
    PUT(&e, 4);
    PUT(&l, 4);
    if (ne) {
        PUT(r->epoch, ne * sizeof *r->epoch);
        unsigned char *lay = p;
        PUT(r->layer, ne * (size_t)nl * sizeof *r->layer);
        for (size_t i = 0; i < ne * (size_t)nl; i++) /* a pointer means nothing elsewhere */
            memset(lay + i * sizeof *r->layer + offsetof(tmlp_diag_layer, act), 0, sizeof(char *));
    }
    uint64_t h = fnv(0xcbf29ce484222325ULL, b, (size_t)(p - b));
    PUT(&h, 8);
#undef PUT
    *out = b;
    *len = n;
    return TMLP_OK;
}

int study_unpack(const cmp_study *s, int job, const unsigned char *b, size_t len, cmp_run *r,
                 tmlp_err *err)
{
    const cmp_cfg *g = &s->cfg[job / s->n_seeds];
    int nl = g->spec.n_layers;
    size_t fixed = 8 + 4 + 4 + 8 + 4 + TMLP_ERR_MSG + 4 + 4 + 8;
    uint32_t version, j;
    uint64_t key, h;
    int32_t st, e, l;
    if (len < fixed || memcmp(b, magic, 8))
        return tmlp_fail(err, TMLP_EFORMAT, "not a tinymlp run record (%zu bytes)", len);
    memcpy(&version, b + 8, 4);
    memcpy(&j, b + 12, 4);
    memcpy(&key, b + 16, 8);
    memcpy(&st, b + 24, 4);
    memcpy(&e, b + 28 + TMLP_ERR_MSG, 4);
    memcpy(&l, b + 32 + TMLP_ERR_MSG, 4);
    if (version != 1 || j != (uint32_t)job || key != s->key_hash)
        return tmlp_fail(err, TMLP_EFORMAT, "run record: version %u, run %u, study %016llx; "
                         "expected 1, %d, %016llx", version, j, (unsigned long long)key, job,
                         (unsigned long long)s->key_hash);
    if (e < 0 || e > g->train.epochs || l != nl)
        return tmlp_fail(err, TMLP_EFORMAT, "run record: %d epochs of %d layers; expected at most "
                         "%d of %d", e, l, g->train.epochs, nl);
    size_t body = (size_t)e * sizeof *r->epoch + (size_t)e * (size_t)nl * sizeof *r->layer;
    if (len != fixed + body)
        return tmlp_fail(err, TMLP_EFORMAT, "run record: %zu bytes, expected %zu", len, fixed + body);
    memcpy(&h, b + len - 8, 8);
    if (h != fnv(0xcbf29ce484222325ULL, b, len - 8))
        return tmlp_fail(err, TMLP_EFORMAT, "run record: checksum mismatch");
    cmp_run out = { .status = st, .n_epochs = e };
    memcpy(out.msg, b + 28, TMLP_ERR_MSG);
    out.msg[TMLP_ERR_MSG - 1] = '\0';
    out.epoch = calloc((size_t)g->train.epochs, sizeof *out.epoch);
    out.layer = calloc((size_t)g->train.epochs * (size_t)nl, sizeof *out.layer);
    if (!out.epoch || !out.layer) {
        free(out.epoch);
        free(out.layer);
        return tmlp_fail(err, TMLP_ENOMEM, "no memory for a run record");
    }
    const unsigned char *p = b + 36 + TMLP_ERR_MSG;
    memcpy(out.epoch, p, (size_t)e * sizeof *out.epoch);
    memcpy(out.layer, p + (size_t)e * sizeof *out.epoch, (size_t)e * (size_t)nl * sizeof *out.layer);
    for (int i = 0; i < e * nl; i++) { /* names from this process's tables */
        const tmlp_layer_spec *ls = &g->spec.layer[i % nl];
        out.layer[i].act = ls->act && i % nl != nl - 1 ? ls->act->name : "identity";
    }
    out.done = 1;
    free(r->epoch);
    free(r->layer);
    *r = out;
    return TMLP_OK;
}

static void run_path(char *buf, size_t size, const char *dir, int job)
{
    snprintf(buf, size, "%s/finished/run-%06d.bin", dir, job);
}

int study_record(const cmp_study *s, const char *dir, int job, const cmp_run *r, tmlp_err *err)
{
    char path[4300];
    unsigned char *b;
    size_t len;
    run_path(path, sizeof path, dir, job);
    if (study_pack(s, job, r, &b, &len))
        return tmlp_fail(err, TMLP_ENOMEM, "no memory for a run record");
    cli_out o;
    int rc = cli_out_open(&o, path, "a run record", err);
    if (!rc) {
        if (fwrite(b, 1, len, o.f) != len) {
            cli_out_abort(&o);
            rc = tmlp_fail(err, TMLP_EIO, "%s: cannot write: %s", path, strerror(errno));
        } else {
            rc = cli_out_commit(&o, err);
        }
    }
    free(b);
    return rc;
}

/* A report folder's own file, opened for reading only when it is a regular file (checked on
 * the open descriptor): a FIFO or device planted there is refused (errno EINVAL), never
 * waited on or read without end. */
static FILE *open_regular(const char *path)
{
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    struct stat st;
    if (fd < 0)
        return NULL;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        errno = EINVAL;
        return NULL;
    }
    FILE *f = fdopen(fd, "rb");
    if (!f)
        close(fd);
    return f;
}

int study_load(const cmp_study *s, const char *dir, int job, cmp_run *r, tmlp_err *err)
{
    char path[4300];
    run_path(path, sizeof path, dir, job);
    FILE *f = open_regular(path);
    if (!f)
        return tmlp_fail(err, errno == ENOENT ? TMLP_ENOTFOUND : TMLP_EIO, "%s: %s", path,
                         errno == EINVAL ? "not a regular file" : strerror(errno));
    size_t cap = 1 << 16, len = 0, got;
    unsigned char *b = malloc(cap);
    while (b && (got = fread(b + len, 1, cap - len, f)) > 0) {
        len += got;
        if (len == cap && cap < (1u << 30)) {
            unsigned char *nb = realloc(b, cap * 2);
            if (!nb) {
                free(b);
                b = NULL;
                break;
            }
            b = nb;
            cap *= 2;
        }
    }
    fclose(f);
    if (!b)
        return tmlp_fail(err, TMLP_ENOMEM, "no memory for %s", path);
    int rc = study_unpack(s, job, b, len, r, err);
    free(b);
    if (rc) { /* name the file */
        char why[TMLP_ERR_MSG];
        snprintf(why, sizeof why, "%s", err->msg);
        tmlp_fail(err, rc, "%s: %.200s", path, why);
    }
    return rc;
}

static int read_text(const char *path, char **out)
{
    FILE *f = open_regular(path);
    if (!f)
        return -1;
    char *t = NULL;
    size_t n = 0;
    FILE *m = open_memstream(&t, &n);
    int c;
    while (m && (c = fgetc(f)) != EOF && n < (1u << 24))
        fputc(c, m);
    fclose(f);
    if (!m || fclose(m) != 0) {
        free(t);
        return -1;
    }
    *out = t;
    return 0;
}

static int write_text(const char *path, const char *text, tmlp_err *err)
{
    cli_out o;
    if (cli_out_open(&o, path, "the study description", err))
        return err->code;
    fputs(text, o.f);
    return cli_out_commit(&o, err);
}

/* The first line where a and b differ, into buf. */
static void first_difference(const char *a, const char *b, char *buf, size_t size)
{
    int line = 1;
    const char *la = a, *lb = b;
    while (*a && *a == *b) {
        if (*a == '\n')
            line++, la = a + 1, lb = b + 1;
        a++, b++;
    }
    int na = (int)strcspn(la, "\n"), nb = (int)strcspn(lb, "\n");
    snprintf(buf, size, "line %d: '%.*s' now, '%.*s' there", line, na > 90 ? 90 : na, la,
             nb > 90 ? 90 : nb, lb);
}

int study_begin(cmp_study *s, const char *dir, int *resumed, tmlp_err *err)
{
    char path[4300], keypath[4300], why[512];
    char *key = study_key(s), *old = NULL;
    *resumed = 0;
    if (!key)
        return tmlp_fail(err, TMLP_ENOMEM, "no memory");
    s->key_hash = fnv(0xcbf29ce484222325ULL, key, strlen(key));
    snprintf(path, sizeof path, "%s/finished", dir);
    snprintf(keypath, sizeof keypath, "%s/finished/study.txt", dir);
    if (mkdir(path, 0777) != 0 && errno != EEXIST) {
        free(key);
        return tmlp_fail(err, TMLP_EIO, "cannot create %s: %s", path, strerror(errno));
    }
    int rc = TMLP_OK;
    if (read_text(keypath, &old) == 0 && strcmp(old, key)) {
        char done[4400];
        snprintf(done, sizeof done, "%s/complete", path);
        first_difference(key, old, why, sizeof why);
        if (access(done, F_OK) != 0) {
            rc = tmlp_fail(err, TMLP_EINVAL, "%s holds the unfinished runs of a different study "
                           "(%s): give another --report folder, or delete %s to start over",
                           dir, why, path);
            goto out;
        }
        /* a finished study's report is replaced, as before: its runs go */
        DIR *d = opendir(path);
        for (struct dirent *ent; d && (ent = readdir(d));) {
            if (strncmp(ent->d_name, "run-", 4))
                continue;
            char rp[4600];
            snprintf(rp, sizeof rp, "%s/%s", path, ent->d_name);
            remove(rp);
        }
        if (d)
            closedir(d);
        remove(done);
    } else if (old) {
        *resumed = 1;
    }
    if (!old || strcmp(old, key))
        rc = write_text(keypath, key, err);
out:
    free(old);
    free(key);
    return rc;
}

int study_complete(const char *dir, tmlp_err *err)
{
    char path[4300];
    snprintf(path, sizeof path, "%s/finished/complete", dir);
    return write_text(path, "complete\n", err);
}

/* --report '' is refused, and so is a report file that would overwrite a --data file. */
int study_check_report(const char *cmd, const char *data_arg, const char *report)
{
    static const char *const names[] = { "report.html", "summary.md", "results.csv",
                                         "layers.csv", "timing.csv" };
    char data[CLI_DATA_FILES_MAX][4200], out[5][4200];
    cli_file in[CLI_DATA_FILES_MAX], outs[5];
    int n_in = cli_dataset_files(data_arg, data, CLI_DATA_FILES_MAX);
    if (!*report)
        return cli_usage_error(cmd, "--report needs a folder, got ''");
    for (int i = 0; i < n_in; i++)
        in[i] = (cli_file){ data[i], "--data" };
    for (int i = 0; i < 5; i++) {
        snprintf(out[i], sizeof out[i], "%.4000s/%s", report, names[i]);
        outs[i] = (cli_file){ out[i], "--report's" };
    }
    return cli_files_check(cmd, in, n_in, outs, 5);
}

int study_prepare_data(const char *cmd, const char *data_name, cli_dataset *ds, double val_frac,
                       uint64_t seed0, int standardize, cli_prep *prep, tmlp_data **train,
                       tmlp_data **val)
{
    tmlp_err err = { 0 };
    *train = ds->train;
    *val = NULL;
    if (val_frac > 0.0) { /* one split for every run: the first seed's, as `train --seed` */
        tmlp_rng split_rng;
        tmlp_rng_seed(&split_rng, seed0, 2);
        if (tmlp_data_split(ds->train, val_frac, &split_rng, train, val, &err)) {
            *train = NULL;
            return cli_fail(&err, 0);
        }
    }
    if (standardize) {
        if (cli_prep_fit(prep, *train, &err))
            return cli_fail(&err, 0);
        cli_prep_apply(prep, *train);
        cli_prep_apply(prep, *val);
        cli_prep_apply(prep, ds->test);
    }
    if ((*train)->n_classes < 2) {
        tmlp_fail(&err, TMLP_EINVAL, "%s: %s needs labelled data with at least two classes",
                  data_name, cmd);
        return cli_fail(&err, 0);
    }
    return 0;
}

int study_use_sets(compare_setup *su, tmlp_data *train, tmlp_data *val, tmlp_data *test,
                   const char *report)
{
    cmp_study *s = su->s;
    su->train = train;
    su->val = val;
    su->eval = test ? test : train;
    s->eval_name = test ? "test" : "training";
    s->n_train = train->n;
    s->n_val = val ? val->n : 0;
    s->n_eval = su->eval->n;
    if (report && study_mkdir_p(report) != 0) {
        fprintf(stderr, "tinymlp: cannot create the report folder '%s': %s\n", report,
                strerror(errno));
        return -1;
    }
    return 0;
}
