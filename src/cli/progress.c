/* progress.c: the training observer behind the CLI's progress display.
 *
 * On a terminal: a bar per epoch (batches done, running loss, ETA), redrawn at most ten times a
 * second, replaced by a summary line when the epoch ends. Otherwise: one plain line per epoch
 * (every `every` epochs), nothing else, so logs stay readable. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "progress.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void progress_init(progress *p, FILE *out, int quiet, int every)
{
    memset(p, 0, sizeof *p);
    p->out = out;
    p->quiet = quiet;
    p->tty = isatty(fileno(out));
    p->every = every > 0 ? every : 1;
}

int progress_on_batch(void *ctx, const tmlp_batch_info *b)
{
    progress *p = ctx;
    if (p->quiet || !p->tty || b->n_batches < 20)
        return 0;
    double t = now();
    if (b->batch != b->n_batches && t - p->last_draw < 0.1)
        return 0;
    p->last_draw = t;
    const int width = 30;
    int filled = (int)((long)width * b->batch / b->n_batches);
    char bar[64];
    for (int i = 0; i < width; i++)
        bar[i] = i < filled ? '#' : '.';
    bar[width] = '\0';
    double eta = b->batch ? b->seconds / b->batch * (b->n_batches - b->batch) : 0.0;
    fprintf(p->out, "\r\033[Kepoch %d/%d [%s] %d/%d  loss %.4f  ETA %.0fs", b->epoch, b->epochs,
            bar, b->batch, b->n_batches, b->running_loss, eta);
    fflush(p->out);
    p->drawn = 1;
    return 0;
}

int progress_on_epoch(void *ctx, const tmlp_epoch_info *e)
{
    progress *p = ctx;
    if (p->log) {
        fprintf(p->log, "%d,%.6f,%.6f,%.6f,%.6f,%.4f,%.3f\n", e->epoch, e->train_loss, e->train_acc,
                e->val_loss, e->val_acc, e->seconds, (double)e->lr);
        fflush(p->log);
    }
    if (p->quiet)
        return 0;
    if (p->drawn) {
        fprintf(p->out, "\r\033[K");
        p->drawn = 0;
    }
    if (e->epoch % p->every && e->epoch != e->epochs && e->epoch != 1)
        return 0;
    fprintf(p->out, "epoch %*d/%d  loss %.4f", p->epoch_width, e->epoch, e->epochs, e->train_loss);
    if (!isnan(e->train_acc))
        fprintf(p->out, "  acc %6.2f%%", 100.0 * e->train_acc);
    if (!isnan(e->val_loss))
        fprintf(p->out, "  val_loss %.4f", e->val_loss);
    if (!isnan(e->val_acc))
        fprintf(p->out, "  val_acc %6.2f%%", 100.0 * e->val_acc);
    fprintf(p->out, "  lr %.3g  %.2fs%s\n", (double)e->lr, e->seconds,
            e->best_epoch && e->best_epoch == e->epoch ? "  (best so far)" : "");
    fflush(p->out);
    return 0;
}
