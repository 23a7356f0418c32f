/* study_run.c: what `tinymlp sweep` and `tinymlp compare` do once their configurations are
 * built and the data loaded: resume from the report folder, train what is left (forked
 * workers, or MPI ranks), write the report files and print the summary (or --json). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "study.h"

int study_mkdir_p(const char *dir)
{
    char path[4096];
    if (snprintf(path, sizeof path, "%s", dir) >= (int)sizeof path) {
        errno = ENAMETOOLONG;
        return -1;
    }
    for (char *p = path + 1;; p++) {
        if (*p == '/' || !*p) {
            char c = *p;
            *p = '\0';
            struct stat st;
            if (mkdir(path, 0777) != 0) {
                if (errno != EEXIST)
                    return -1;
                if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode)) {
                    errno = ENOTDIR;
                    return -1;
                }
            }
            *p = c;
            if (!c)
                return 0;
        }
    }
}

void study_command_line(int argc, char **argv, char *buf, size_t size)
{
    size_t used = (size_t)snprintf(buf, size, "tinymlp");
    for (int i = 0; i < argc && used < size; i++)
        used += (size_t)snprintf(buf + used, size - used, strchr(argv[i], ' ') ? " '%s'" : " %s", argv[i]);
}

int study_limit_rows(tmlp_data **d, long n, tmlp_err *err)
{
    if (!*d || n >= (*d)->n)
        return TMLP_OK;
    int *idx = malloc((size_t)n * sizeof *idx);
    if (!idx)
        return tmlp_fail(err, TMLP_ENOMEM, "no memory");
    for (int i = 0; i < n; i++)
        idx[i] = i;
    tmlp_data *sub = tmlp_data_subset(*d, idx, (int)n, err);
    free(idx);
    if (!sub)
        return err->code;
    tmlp_data_free(*d);
    *d = sub;
    return TMLP_OK;
}

void study_free_runs(cmp_study *s)
{
    for (int j = 0; s->run && j < s->n_cfg * s->n_seeds; j++) {
        free(s->run[j].epoch);
        free(s->run[j].layer);
    }
    free(s->run);
    s->run = NULL;
}

int study_execute(compare_setup *su, const char *dir, int quiet, int json, int ranks, int rank)
{
    cmp_study *s = su->s;
    tmlp_err err = { 0 };
    int total = s->n_cfg * s->n_seeds, resumed = 0;
    s->data_sum = study_data_sum(study_data_sum(study_data_sum(0, su->train), su->val), su->eval);
    s->ranks = ranks;
    if (!(s->run = calloc((size_t)total, sizeof *s->run))) {
        tmlp_fail(&err, TMLP_ENOMEM, "no memory");
        return cli_fail(&err, 0);
    }
    int begin_rc = TMLP_OK;
    if (rank == 0) {
        if (study_mkdir_p(dir) != 0)
            begin_rc = tmlp_fail(&err, TMLP_EIO, "cannot create the report folder '%s': %s", dir,
                                 strerror(errno));
        else
            begin_rc = study_begin(s, dir, &resumed, &err);
        for (int j = 0; !begin_rc && resumed && j < total; j++) {
            tmlp_err e2 = { 0 };
            int rc = study_load(s, dir, j, &s->run[j], &e2);
            if (rc == TMLP_OK)
                s->n_resumed++;
            else if (rc != TMLP_ENOTFOUND) /* a damaged record: trained again */
                fprintf(stderr, "tinymlp: ignoring %s\n", e2.msg);
        }
        if (!begin_rc && s->n_resumed && !quiet)
            fprintf(stderr, "resuming %s: %d of %d runs already finished\n", dir, s->n_resumed, total);
    } else {
        if (study_set_key_hash(s)) /* what rank 0 will compare with */
            begin_rc = tmlp_fail(&err, TMLP_ENOMEM, "no memory");
    }
    const int mpi = ranks > 1 || study_mpi_active();
    if (begin_rc && !mpi)
        return cli_fail(&err, err.code == TMLP_EINVAL ? EXIT_USAGE : EXIT_RUNTIME);
    tmlp_blas_threads(1); /* every run on one thread: results independent of --jobs and ranks */
    double t0 = compare_now();
    if (mpi) {
        s->jobs = 1;
        if (begin_rc) /* rank 0 tells the others to stop */
            fprintf(stderr, "tinymlp: %s\n", err.msg);
        int rc = study_mpi_run_all(su, dir, quiet, begin_rc == TMLP_OK);
        if (rc || begin_rc)
            return begin_rc == TMLP_EINVAL ? EXIT_USAGE : EXIT_RUNTIME;
        if (rank != 0)
            return 0;
    } else if (compare_run_all(su, dir, quiet) != 0) {
        fprintf(stderr, "tinymlp: lost track of the workers\n");
        return EXIT_RUNTIME;
    }
    s->wall_seconds = compare_now() - t0;
    int all_recorded = 1;
    for (int j = 0; j < total; j++)
        all_recorded &= s->run[j].status != TMLP_EIO;
    if ((all_recorded && study_complete(dir, &err)) || report_write_csv(s, dir, &err) ||
        report_write_summary(s, dir, &err) || report_write_html(s, dir, &err))
        return cli_fail(&err, 0);
    static cmp_row rows[CMP_MAX_CFG];
    cmp_verdict v;
    report_summarise(s, rows);
    report_rank(s, rows, &v);
    if (json) {
        if (report_json(stdout, s, rows, &v)) {
            tmlp_fail(&err, TMLP_ENOMEM, "no memory for the JSON summary");
            return cli_fail(&err, 0);
        }
    } else {
        report_summary_md(stdout, s, rows);
        report_verdict_md(stdout, s, rows, &v);
        printf("\nreport: %s/report.html (also summary.md, results.csv, layers.csv, timing.csv)\n", dir);
    }
    /* A diverged run is a result; any other failure is the tool's. */
    for (int j = 0; j < total; j++)
        if (s->run[j].status != TMLP_OK && s->run[j].status != TMLP_ENUMERIC)
            return EXIT_RUNTIME;
    return 0;
}
