/* act/registry.c: finds activation definitions by name.
 *
 * Built-in families are the tables listed in `families`; user definitions are appended at run
 * time by tmlp_act_register (a fixed table guarded by a mutex, so registering from two threads
 * is safe). Names are looked up built-ins first, so a user cannot shadow "relu". */
#include <ctype.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "act_impl.h"

static const tmlp_act *const families[] = {
    tmlp_acts_basic, tmlp_acts_sigmoid, tmlp_acts_relu, tmlp_acts_elu, tmlp_acts_smooth,
    tmlp_acts_softmax,
};
#define N_FAMILIES ((int)(sizeof families / sizeof families[0]))

#define MAX_USER 64
#define MAX_ORIGIN 64
static const tmlp_act *user[MAX_USER];
static char origin[MAX_USER][MAX_ORIGIN]; /* where user[i] came from ("" when not said) */
static int n_user;
static pthread_mutex_t user_lock = PTHREAD_MUTEX_INITIALIZER;

static int n_builtin(void)
{
    int n = 0;
    for (int f = 0; f < N_FAMILIES; f++)
        for (const tmlp_act *a = families[f]; a->name; a++)
            n++;
    return n;
}

int tmlp_act_count(void)
{
    pthread_mutex_lock(&user_lock);
    int nu = n_user;
    pthread_mutex_unlock(&user_lock);
    return n_builtin() + nu;
}

const tmlp_act *tmlp_act_at(int i)
{
    if (i < 0)
        return NULL;
    for (int f = 0; f < N_FAMILIES; f++)
        for (const tmlp_act *a = families[f]; a->name; a++)
            if (i-- == 0)
                return a;
    const tmlp_act *a = NULL;
    pthread_mutex_lock(&user_lock);
    if (i < n_user)
        a = user[i];
    pthread_mutex_unlock(&user_lock);
    return a;
}

/* Finds name[0..len) (not necessarily NUL-terminated there). */
static const tmlp_act *find_n(const char *name, size_t len)
{
    for (int f = 0; f < N_FAMILIES; f++)
        for (const tmlp_act *a = families[f]; a->name; a++)
            if (strlen(a->name) == len && memcmp(a->name, name, len) == 0)
                return a;
    const tmlp_act *found = NULL;
    pthread_mutex_lock(&user_lock);
    for (int i = 0; i < n_user && !found; i++)
        if (strlen(user[i]->name) == len && memcmp(user[i]->name, name, len) == 0)
            found = user[i];
    pthread_mutex_unlock(&user_lock);
    return found;
}

const tmlp_act *tmlp_act_find(const char *name)
{
    return name ? find_n(name, strlen(name)) : NULL;
}

/* Edit distance between a[0..la) and b[0..lb), ignoring case: insertions, deletions,
 * substitutions and swaps of two neighbours each cost 1 (optimal string alignment). Both
 * lengths are at most SUGGEST_MAX. */
#define SUGGEST_MAX 48
static int distance(const char *a, size_t la, const char *b, size_t lb)
{
    int d[SUGGEST_MAX + 1][SUGGEST_MAX + 1];
    for (size_t i = 0; i <= la; i++)
        d[i][0] = (int)i;
    for (size_t j = 0; j <= lb; j++)
        d[0][j] = (int)j;
    for (size_t i = 1; i <= la; i++)
        for (size_t j = 1; j <= lb; j++) {
            int ca = tolower((unsigned char)a[i - 1]), cb = tolower((unsigned char)b[j - 1]);
            int best = d[i - 1][j - 1] + (ca != cb);
            if (d[i - 1][j] + 1 < best)
                best = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < best)
                best = d[i][j - 1] + 1;
            if (i > 1 && j > 1 && ca == tolower((unsigned char)b[j - 2]) &&
                tolower((unsigned char)a[i - 2]) == cb && d[i - 2][j - 2] + 1 < best)
                best = d[i - 2][j - 2] + 1;
            d[i][j] = best;
        }
    return d[la][lb];
}

static const tmlp_act *suggest_n(const char *name, size_t len)
{
    if (!name || len == 0 || len > SUGGEST_MAX)
        return NULL;
    int limit = 1 + (int)len / 4, best = limit + 1;
    const tmlp_act *found = NULL;
    for (int i = 0; i < tmlp_act_count(); i++) {
        const tmlp_act *a = tmlp_act_at(i);
        size_t la = a ? strlen(a->name) : 0;
        if (!a || la > SUGGEST_MAX)
            continue;
        int dist = distance(name, len, a->name, la);
        if (dist < best) { /* ties go to the first in listing order */
            best = dist;
            found = a;
        }
    }
    return found;
}

const tmlp_act *tmlp_act_suggest(const char *name)
{
    return name ? suggest_n(name, strlen(name)) : NULL;
}

int tmlp_act_parse(const char *spec, const tmlp_act **act, float *arg, tmlp_err *err)
{
    if (!spec || !*spec)
        return tmlp_fail(err, TMLP_EINVAL, "empty activation name");
    const char *colon = strchr(spec, ':');
    size_t len = colon ? (size_t)(colon - spec) : strlen(spec);
    const tmlp_act *a = find_n(spec, len);
    if (!a && len == 6 && !memcmp(spec, "linear", 6))
        a = find_n("identity", 8); /* the other common name of f(x) = x */
    if (!a) {
        /* Short enough that a caller's prefix ("layer 2 \"...\": ") leaves the end whole: a
         * capped echo of the name, the nearest known one, and where the full list is. */
        int shown = (int)(len > 24 ? 24 : len);
        const tmlp_act *near = suggest_n(spec, len);
        return tmlp_fail(err, TMLP_ENOTFOUND, "unknown activation '%.*s%s' (%s%s%s`tinymlp act "
                         "--list` lists all %d)", shown, spec, len > 24 ? "..." : "",
                         near ? "did you mean '" : "", near ? near->name : "",
                         near ? "'? " : "", tmlp_act_count());
    }
    float v = a->arg;
    if (colon) {
        if (!(a->flags & TMLP_ACT_HAS_ARG))
            return tmlp_fail(err, TMLP_EINVAL, "activation '%s' takes no ':value' (got '%s')",
                             a->name, spec);
        char *end;
        v = strtof(colon + 1, &end);
        if (end == colon + 1 || *end != '\0' || !isfinite(v))
            return tmlp_fail(err, TMLP_EINVAL,
                             "activation '%s': ':%s' is not a finite number", a->name, colon + 1);
        if ((a->flags & TMLP_ACT_ARG_POSITIVE) && !(v > 0.0f))
            return tmlp_fail(err, TMLP_EINVAL, "activation '%s': ':%s' must be greater than 0",
                             a->name, colon + 1);
    }
    *act = a;
    if (arg)
        *arg = v;
    return TMLP_OK;
}

int tmlp_act_format(const tmlp_act *act, float arg, char *buf, size_t size)
{
    if (!(act->flags & TMLP_ACT_HAS_ARG))
        return snprintf(buf, size, "%s", act->name);
    /* The shortest of %g and %.9g that reads back as the same float. */
    char tmp[48];
    snprintf(tmp, sizeof tmp, "%g", (double)arg);
    if (strtof(tmp, NULL) != arg)
        snprintf(tmp, sizeof tmp, "%.9g", (double)arg);
    return snprintf(buf, size, "%s:%s", act->name, tmp);
}

int tmlp_act_register(const tmlp_act *act, tmlp_err *err)
{
    return tmlp_act_register_from(act, NULL, err);
}

int tmlp_act_is_builtin(const tmlp_act *act)
{
    for (int f = 0; f < N_FAMILIES; f++)
        for (const tmlp_act *a = families[f]; a->name; a++)
            if (a == act)
                return 1;
    return 0;
}

const char *tmlp_act_origin(const tmlp_act *act)
{
    const char *o = NULL;
    pthread_mutex_lock(&user_lock);
    for (int i = 0; i < n_user && !o; i++)
        if (user[i] == act && origin[i][0])
            o = origin[i];
    pthread_mutex_unlock(&user_lock);
    return o;
}

int tmlp_act_register_from(const tmlp_act *act, const char *from, tmlp_err *err)
{
    if (from && (!*from || strlen(from) >= MAX_ORIGIN || strpbrk(from, "/=,\n")))
        return tmlp_fail(err, TMLP_EINVAL, "activation origin must be a file name of 1 to %d "
                         "characters without '/', '=', ',' or a newline", MAX_ORIGIN - 1);
    if (!act || !act->name || !act->forward || !act->backward)
        return tmlp_fail(err, TMLP_EINVAL, "activation to register needs a name, forward and backward");
    size_t len = strlen(act->name);
    if (len == 0 || len > 40)
        return tmlp_fail(err, TMLP_EINVAL, "activation name must be 1 to 40 characters");
    for (size_t i = 0; i < len; i++) {
        char c = act->name[i];
        if (!(islower((unsigned char)c) || isdigit((unsigned char)c) || c == '_'))
            return tmlp_fail(err, TMLP_EINVAL,
                             "activation name '%s': use lower-case letters, digits and '_'",
                             act->name);
    }
    if (act->params < TMLP_ACT_PARAM_NONE || act->params > TMLP_ACT_PARAM_PER_UNIT ||
        act->n_kinks < 0 || act->n_kinks > TMLP_ACT_MAX_KINKS)
        return tmlp_fail(err, TMLP_EINVAL, "activation '%s': bad params or n_kinks", act->name);
    const tmlp_act *old = tmlp_act_find(act->name);
    if (old && tmlp_act_is_builtin(old))
        return tmlp_fail(err, TMLP_EINVAL, "activation '%s' is a built-in activation; choose "
                         "another name", act->name);
    if (old)
        return tmlp_fail(err, TMLP_EINVAL, "activation '%s' is already registered%s%s",
                         act->name, tmlp_act_origin(old) ? " by " : "",
                         tmlp_act_origin(old) ? tmlp_act_origin(old) : "");
    int rc = TMLP_OK;
    pthread_mutex_lock(&user_lock);
    for (int i = 0; i < n_user && rc == TMLP_OK; i++)  /* again, under the lock */
        if (strcmp(user[i]->name, act->name) == 0)
            rc = tmlp_fail(err, TMLP_EINVAL, "activation '%s' is already registered", act->name);
    if (rc == TMLP_OK && n_user == MAX_USER)
        rc = tmlp_fail(err, TMLP_ENOMEM, "activation table full (%d user activations)", MAX_USER);
    else if (rc == TMLP_OK) {
        snprintf(origin[n_user], MAX_ORIGIN, "%s", from ? from : "");
        user[n_user++] = act;
    }
    pthread_mutex_unlock(&user_lock);
    return rc;
}

int tmlp_act_n_params(const tmlp_act *act, int units)
{
    switch (act ? act->params : TMLP_ACT_PARAM_NONE) {
    case TMLP_ACT_PARAM_SHARED: return 1;
    case TMLP_ACT_PARAM_PER_UNIT: return units;
    default: return 0;
    }
}
