/* fuzz_layers.c: the parsers of what people type: --layers (tmlp_net_spec_parse, and the net
 * it describes), activation specs, the names of optimizers, schedules, losses and
 * initializers, and `tinymlp train`'s own configuration: its flags and --config INI files
 * (src/cli/cmd_train.c, included here for its static parse and with_config).
 *
 * Input: a mode byte, then text. Mode % 4: 0 a layer list (must format back to a list that
 * parses to the same spec); 1 one name for every registry; 2 an INI file given to --config;
 * 3 command-line arguments, separated by NUL bytes. */
#include "../src/cli/cmd_train.c"

#include "fuzz.h"

static void layers(const char *text)
{
    tmlp_err err;
    tmlp_net_spec a, b;
    tmlp_net_spec_init(&a, 7, TMLP_LOSS_SOFTMAX_CE);
    if (tmlp_net_spec_parse(&a, text, &err) != TMLP_OK) {
        if (!err.msg[0])
            abort();
        return;
    }
    char buf[8192];
    int w = tmlp_net_spec_format(&a, 1, buf, sizeof buf);
    if (w < 0)
        abort();
    if ((size_t)w < sizeof buf) {                   /* written back, it reads the same */
        tmlp_net_spec_init(&b, 7, TMLP_LOSS_SOFTMAX_CE);
        if (tmlp_net_spec_parse(&b, buf, &err) != TMLP_OK || b.n_layers != a.n_layers)
            abort();
        for (int i = 0; i < a.n_layers; i++) {
            const tmlp_layer_spec *x = &a.layer[i], *y = &b.layer[i];
            /* every number is written with the digits that read back the same float */
            const tmlp_act *id = tmlp_act_find("identity"); /* NULL means identity */
            if (x->units != y->units || (x->act ? x->act : id) != (y->act ? y->act : id) ||
                memcmp(&x->act_arg, &y->act_arg, 4) ||
                x->batchnorm != y->batchnorm || x->dropout != y->dropout ||
                x->l1 != y->l1 || x->l2 != y->l2)
                abort();
        }
    }
    /* a net small enough to build: build it, run it once */
    double n_params = 0, n_in = 7;
    for (int i = 0; i < a.n_layers; i++) {
        n_params += (n_in + 1) * a.layer[i].units;
        n_in = a.layer[i].units;
    }
    if (n_params > 1e6)
        return;
    tmlp_net *net = NULL;
    if (tmlp_net_spec_add(&a, 3, NULL, 0.0f, &err) || !(net = tmlp_net_new(&a, 2, &err)))
        return;
    tmlp_rng r;
    tmlp_rng_seed(&r, 1, 1);
    float x[14] = { 0 }, out[6];
    if (tmlp_net_n_out(net) != 3)
        abort();
    if (tmlp_net_init(net, &r, &err) == TMLP_OK)
        tmlp_net_predict(net, x, 2, out, &err);
    tmlp_net_free(net);
}

static void names(const char *text)
{
    tmlp_err err;
    const tmlp_act *act;
    float arg;
    int kind;
    if (tmlp_act_parse(text, &act, &arg, &err) == TMLP_OK) {
        char buf[128];
        int w = tmlp_act_format(act, arg, buf, sizeof buf);
        const tmlp_act *act2;
        float arg2;
        if (w < 0 || ((size_t)w < sizeof buf && (tmlp_act_parse(buf, &act2, &arg2, &err) ||
                                                 act2 != act || memcmp(&arg, &arg2, 4))))
            abort();
    }
    tmlp_optim_find(text, &kind, &err);
    tmlp_schedule_find(text, &kind, &err);
    tmlp_loss_find(text, &kind, &err);
    tmlp_init_find(text, &kind, &err);
    long l;
    double d;
    uint64_t u;
    int b;
    cli_int(text, -5, 1L << 30, &l);
    cli_float(text, &d);
    cli_u64(text, &u);
    cli_ckpt_every(text, &l, &b);
}

/* getopt keeps a pointer into the last argv between calls: start it afresh each time. */
static void reset_getopt(void)
{
    static char *none[] = { "x", NULL };
    optind = 0;
    opterr = 0;
    while (getopt(1, none, "") != -1)
        ;
}

static void config(const char *text, size_t len, int is_ini)
{
    enum { MAX_ARGS = 64 };
    char *args[MAX_ARGS + 4] = { "tinymlp-train" };
    int argc = 1;
    const char *ini = fuzz_path(0, ".ini");
    if (is_ini) {
        if (!fuzz_write(ini, text, len))
            return;
        args[argc++] = "--config";
        args[argc++] = (char *)ini;
    } else {                                        /* NUL-separated arguments */
        for (size_t at = 0; at < len && argc < MAX_ARGS; at += strlen(text + at) + 1)
            if (strncmp(text + at, "--config", 8))  /* files named by the input: mode 2 only */
                args[argc++] = (char *)text + at;
    }
    args[argc] = NULL;
    ini_args cfg;
    opts o;
    reset_getopt();
    int rc = with_config(argc, args, &cfg);
    if (!rc) {
        reset_getopt();
        rc = cfg.argv ? parse(cfg.argc, cfg.argv, &o) : parse(argc, args, &o);
    }
    if (rc > 0 && rc != EXIT_USAGE && rc != EXIT_RUNTIME)
        abort();
    ini_free(&cfg);
    if (is_ini)
        unlink(ini);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > (1u << 16))
        return 0;
    fuzz_quiet();
    char *text = malloc(size);                      /* the rest, NUL-terminated */
    memcpy(text, data + 1, size - 1);
    text[size - 1] = '\0';
    switch (data[0] % 4) {
    case 0: layers(text); break;
    case 1: names(text); break;
    default: config(text, size - 1, data[0] % 4 == 2); break;
    }
    free(text);
    return 0;
}
