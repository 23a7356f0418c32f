/* schedule.c: learning-rate schedules (formulas in tinymlp/schedule.h). */
#include <math.h>
#include <string.h>

#include "tinymlp/schedule.h"

static const char *const names[TMLP_SCHED_COUNT] = { "constant", "step", "exp", "cosine", "plateau" };

const char *tmlp_schedule_name(int kind)
{
    return kind >= 0 && kind < TMLP_SCHED_COUNT ? names[kind] : NULL;
}

int tmlp_schedule_find(const char *name, int *kind, tmlp_err *err)
{
    for (int k = 0; k < TMLP_SCHED_COUNT; k++)
        if (name && !strcmp(name, names[k])) {
            *kind = k;
            return TMLP_OK;
        }
    return tmlp_fail(err, TMLP_ENOTFOUND, "unknown schedule '%.40s%s' (known: constant, step, exp, "
                     "cosine, plateau)", name ? name : "(null)", name && strlen(name) > 40 ? "..." : "");
}

tmlp_schedule tmlp_schedule_defaults(int kind, float base_lr)
{
    tmlp_schedule s = {
        .kind = kind, .base_lr = base_lr, .warmup = 0.0f, .step_size = 10.0f,
        .gamma = kind == TMLP_SCHED_EXP ? 0.95f : kind == TMLP_SCHED_PLATEAU ? 0.5f : 0.1f,
        .min_lr = 0.0f, .patience = 3, .best = INFINITY, .bad_epochs = 0, .current = base_lr,
    };
    return s;
}

int tmlp_schedule_check(const tmlp_schedule *s, tmlp_err *err)
{
    const char *name = tmlp_schedule_name(s->kind);
    if (!name)
        return tmlp_fail(err, TMLP_EINVAL, "schedule: unknown kind %d", s->kind);
    if (!(s->base_lr > 0.0f) || !isfinite(s->base_lr))
        return tmlp_fail(err, TMLP_EINVAL, "%s schedule: base lr must be > 0, got %g", name, (double)s->base_lr);
    if (!(s->warmup >= 0.0f) || !isfinite(s->warmup))
        return tmlp_fail(err, TMLP_EINVAL, "%s schedule: warm-up must be >= 0 epochs, got %g", name, (double)s->warmup);
    if (!(s->step_size > 0.0f) || !isfinite(s->step_size))
        return tmlp_fail(err, TMLP_EINVAL, "%s schedule: step size must be > 0 epochs, got %g", name, (double)s->step_size);
    if (!(s->gamma > 0.0f && s->gamma <= 1.0f))
        return tmlp_fail(err, TMLP_EINVAL, "%s schedule: gamma must be in (0, 1], got %g", name, (double)s->gamma);
    if (!(s->min_lr >= 0.0f) || !(s->min_lr <= s->base_lr))
        return tmlp_fail(err, TMLP_EINVAL, "%s schedule: min lr must be in [0, base lr], got %g", name, (double)s->min_lr);
    if (s->patience < 1)
        return tmlp_fail(err, TMLP_EINVAL, "%s schedule: patience must be >= 1, got %d", name, s->patience);
    return TMLP_OK;
}

float tmlp_schedule_lr(const tmlp_schedule *s, double t, int epochs, int steps_per_epoch)
{
    const double base = s->base_lr, w = s->warmup;
    double lr;
    switch (s->kind) {
    case TMLP_SCHED_STEP: lr = base * pow(s->gamma, floor(t / s->step_size)); break;
    case TMLP_SCHED_EXP: lr = base * pow(s->gamma, t); break;
    case TMLP_SCHED_COSINE: {
        double span = epochs - w, u = span > 0 ? (t - w) / span : 1.0;
        u = u < 0 ? 0 : u > 1 ? 1 : u;
        lr = s->min_lr + (base - s->min_lr) * 0.5 * (1.0 + cos(3.14159265358979323846 * u));
        break;
    }
    case TMLP_SCHED_PLATEAU: lr = s->current; break;
    default: lr = base; break;
    }
    if (w > 0 && t < w) { /* linear warm-up; the first step already moves (never lr = 0) */
        double first = 1.0 / (w * (steps_per_epoch > 0 ? steps_per_epoch : 1));
        double frac = t / w;
        lr *= frac > first ? frac : first;
    }
    return (float)lr;
}

int tmlp_schedule_epoch_end(tmlp_schedule *s, double val_loss)
{
    if (s->kind != TMLP_SCHED_PLATEAU || isnan(val_loss))
        return 0;
    if (val_loss < s->best * (1.0 - 1e-4)) {
        s->best = val_loss;
        s->bad_epochs = 0;
        return 0;
    }
    if (++s->bad_epochs < s->patience)
        return 0;
    s->bad_epochs = 0;
    float next = s->current * s->gamma;
    s->current = next > s->min_lr ? next : s->min_lr;
    return 1;
}
