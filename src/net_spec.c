/* net_spec.c: layer lists: parsing "128:relu:drop0.2,64:tanh:bn,10" and writing them back. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tinymlp/init.h"
#include "tinymlp/net.h"

void tmlp_net_spec_init(tmlp_net_spec *spec, int n_in, int loss)
{
    memset(spec, 0, sizeof *spec);
    spec->n_in = n_in;
    spec->loss = loss;
}

int tmlp_net_spec_add(tmlp_net_spec *spec, int units, const tmlp_act *act, float act_arg,
                      tmlp_err *err)
{
    if (spec->n_layers >= TMLP_MAX_LAYERS)
        return tmlp_fail(err, TMLP_EINVAL, "too many layers (at most %d)", TMLP_MAX_LAYERS);
    if (units <= 0)
        return tmlp_fail(err, TMLP_EINVAL, "layer %d: units must be positive, got %d",
                         spec->n_layers + 1, units);
    tmlp_layer_spec *l = &spec->layer[spec->n_layers++];
    memset(l, 0, sizeof *l);
    l->units = units;
    l->act = act;
    l->act_arg = act ? act_arg : 0.0f;
    l->init = TMLP_INIT_AUTO;
    return TMLP_OK;
}

/* Reads a whole token as a finite float into *v. */
static int number(const char *s, float *v)
{
    char *end;
    *v = strtof(s, &end);
    return end != s && *end == '\0' && isfinite(*v);
}

/* Applies one option token ("drop0.2", "bn", "l1=...", "l2=...") to l; 0 if it is none. */
static int option(tmlp_layer_spec *l, const char *tok, int item, const char *whole, tmlp_err *err,
                  int *rc)
{
    float v;
    *rc = TMLP_OK;
    if (!strcmp(tok, "bn")) {
        l->batchnorm = 1;
    } else if (!strncmp(tok, "drop", 4)) {
        if (!number(tok + 4, &v) || !(v >= 0.0f && v < 1.0f))
            *rc = tmlp_fail(err, TMLP_EINVAL, "layer %d \"%s\": dropout '%s' must be drop<p> "
                            "with p in [0, 1)", item, whole, tok);
        l->dropout = v;
    } else if (!strncmp(tok, "l1=", 3) || !strncmp(tok, "l2=", 3)) {
        if (!number(tok + 3, &v) || v < 0.0f)
            *rc = tmlp_fail(err, TMLP_EINVAL, "layer %d \"%s\": penalty '%s' must be >= 0",
                            item, whole, tok);
        if (tok[1] == '1')
            l->l1 = v;
        else
            l->l2 = v;
    } else {
        return 0;
    }
    return 1;
}

/* Refuses what strtol and strtof would quietly accept or skip: whitespace, a sign before the
 * units, an empty ':' field ("4:", "4::relu", ":relu"). 0 if the item is clean; messages
 * quote it as shown. */
static int malformed(const char *item_text, const char *shown, int item, tmlp_err *err)
{
    const char *why = NULL;
    size_t n = strlen(item_text);
    if (strpbrk(item_text, " \t\n\v\f\r"))
        why = "whitespace is not allowed";
    else if (item_text[0] == '+' || item_text[0] == '-')
        why = "units take no sign";
    else if (item_text[0] == ':' || item_text[n - 1] == ':' || strstr(item_text, "::"))
        why = "empty field (a ':' with nothing after it, or two in a row)";
    if (!why)
        return TMLP_OK;
    return tmlp_fail(err, TMLP_EINVAL, "layer %d \"%s\": %s", item, shown, why);
}

/* The layer list parser behind tmlp_net_spec_parse and tmlp_net_spec_parse_hidden: a layer that
 * names no activation gets `bare` (with bare_arg), except the last item when last_is_output
 * (that one is the output layer: NULL, no activation, the loss applies its link). */
static int parse(tmlp_net_spec *spec, const char *layers, const tmlp_act *bare, float bare_arg,
                 int last_is_output, tmlp_err *err)
{
    if (!layers || !*layers)
        return tmlp_fail(err, TMLP_EINVAL, "empty layer list (expected e.g. \"128:relu,64:tanh\")");
    const char *p = layers;
    for (int item = 1;; item++) {
        size_t len = strcspn(p, ",");
        char buf[128], whole[128];
        if (len == 0 || len >= sizeof buf)
            return tmlp_fail(err, TMLP_EINVAL, "layer %d in \"%.60s\": %s", item, layers,
                             len ? "too long" : "empty (two commas, or a trailing one?)");
        memcpy(buf, p, len);
        buf[len] = '\0';
        memcpy(whole, buf, len + 1);
        if (len > 40) /* messages quote the item; a long one is cut so their end survives */
            memcpy(whole + 37, "...", 4);
        int rc = malformed(buf, whole, item, err);
        if (rc != TMLP_OK)
            return rc;
        /* Tokens: units, then the activation (and its ":arg"), then options. */
        char *save = NULL, *tok = strtok_r(buf, ":", &save);
        char *end;
        long units = tok ? strtol(tok, &end, 10) : 0;
        if (!tok || end == tok || *end || units <= 0 || units > (1L << 24))
            return tmlp_fail(err, TMLP_EINVAL,
                             "layer %d \"%s\": expected units[:activation[:arg]][:drop<p>][:bn]"
                             "[:l1=x][:l2=x] with units in 1..%ld", item, whole, 1L << 24);
        if ((rc = tmlp_net_spec_add(spec, (int)units, NULL, 0.0f, err)) != TMLP_OK)
            return rc;
        tmlp_layer_spec *l = &spec->layer[spec->n_layers - 1];
        int have_act = 0, have_arg = 0;
        unsigned seen = 0; /* options given so far: 1 drop, 2 bn, 4 l1, 8 l2 */
        while ((tok = strtok_r(NULL, ":", &save))) {
            unsigned bit = !strcmp(tok, "bn") ? 2u : !strncmp(tok, "drop", 4) ? 1u
                         : !strncmp(tok, "l1=", 3) ? 4u : !strncmp(tok, "l2=", 3) ? 8u : 0u;
            if (bit & seen)
                return tmlp_fail(err, TMLP_EINVAL, "layer %d \"%s\": '%s' repeats the %s option "
                                 "(give each option once)", item, whole, tok,
                                 bit == 1 ? "drop" : bit == 2 ? "bn" : bit == 4 ? "l1" : "l2");
            if (option(l, tok, item, whole, err, &rc)) {
                if (rc != TMLP_OK)
                    return rc;
                seen |= bit;
                continue;
            }
            if (have_act && !have_arg && (l->act->flags & TMLP_ACT_HAS_ARG)) {
                char spelled[96]; /* the registry judges the value (celu needs > 0, ...) */
                snprintf(spelled, sizeof spelled, "%s:%s", l->act->name, tok);
                if ((rc = tmlp_act_parse(spelled, &l->act, &l->act_arg, err)) != TMLP_OK)
                    goto act_error;
                have_arg = 1;
                continue;
            }
            if (have_act)
                return tmlp_fail(err, TMLP_EINVAL, "layer %d \"%s\": '%s' is not an option "
                                 "(drop<p>, bn, l1=x, l2=x)%s", item, whole, tok,
                                 (l->act->flags & TMLP_ACT_HAS_ARG) ? ""
                                 : "; the activation takes no ':value'");
            if ((rc = tmlp_act_parse(tok, &l->act, &l->act_arg, err)) != TMLP_OK)
                goto act_error;
            have_act = 1;
            continue;
act_error:
            {
                char why[TMLP_ERR_MSG];
                snprintf(why, sizeof why, "%s", err ? err->msg : "");
                return tmlp_fail(err, rc, "layer %d \"%s\": %s", item, whole, why);
            }
        }
        p += len;
        if (!have_act && !(last_is_output && *p == '\0')) {
            l->act = bare;
            l->act_arg = bare_arg;
        }
        if (*p == '\0')
            return TMLP_OK;
        p++; /* the comma */
    }
}

int tmlp_net_spec_parse(tmlp_net_spec *spec, const char *layers, tmlp_err *err)
{
    const tmlp_act *relu = tmlp_act_find(TMLP_DEFAULT_ACT);
    return parse(spec, layers, relu, relu->arg, 1, err);
}

int tmlp_net_spec_parse_hidden(tmlp_net_spec *spec, const char *layers, const tmlp_act *act,
                               float act_arg, tmlp_err *err)
{
    if (!act) {
        act = tmlp_act_find(TMLP_DEFAULT_ACT);
        act_arg = act->arg;
    }
    return parse(spec, layers, act, act_arg, 0, err);
}

/* The shortest of %g and %.9g that reads back as the same float: "0.2" stays "0.2", while
 * 0.123456789f (which %g rounds to 0.123457) keeps all its digits. */
static const char *exact(float v, char tmp[32])
{
    snprintf(tmp, 32, "%g", (double)v);
    if (strtof(tmp, NULL) != v)
        snprintf(tmp, 32, "%.9g", (double)v);
    return tmp;
}

int tmlp_net_spec_format(const tmlp_net_spec *spec, int with_penalties, char *buf, size_t size)
{
    char num[32];
    size_t used = 0;
    int need = 0;
#define PUT(...)                                                                       \
    do {                                                                               \
        int w_ = snprintf(buf + (used < size ? used : size), used < size ? size - used : 0, \
                          __VA_ARGS__);                                                \
        if (w_ > 0) {                                                                  \
            used += (size_t)w_;                                                        \
            need += w_;                                                                \
        }                                                                              \
    } while (0)
    if (size)
        buf[0] = '\0';
    for (int i = 0; i < spec->n_layers; i++) {
        const tmlp_layer_spec *l = &spec->layer[i];
        PUT("%s%d", i ? "," : "", l->units);
        /* a hidden layer's identity is written out (a bare width reads back as ReLU there);
         * the output layer's is left implicit, as the loss applies its own link */
        if (!l->act && i + 1 < spec->n_layers)
            PUT(":identity");
        else if (l->act && (strcmp(l->act->name, "identity") || i + 1 < spec->n_layers)) {
            char a[96];
            tmlp_act_format(l->act, l->act_arg, a, sizeof a);
            PUT(":%s", a);
        }
        if (l->batchnorm)
            PUT(":bn");
        if (l->dropout > 0.0f)
            PUT(":drop%s", exact(l->dropout, num));
        if (with_penalties && l->l1 > 0.0f)
            PUT(":l1=%s", exact(l->l1, num));
        if (with_penalties && l->l2 > 0.0f)
            PUT(":l2=%s", exact(l->l2, num));
    }
#undef PUT
    return need;
}
