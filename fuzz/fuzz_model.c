/* fuzz_model.c: the model and checkpoint loaders. Input: a mode byte, then the file.
 * Mode & 1: tmlp_model_read; else tmlp_checkpoint_peek and tmlp_checkpoint_read (the net
 * at most 64 rows a batch). Whatever loads must save and load back to the same bits, and a
 * checkpoint that loads must be able to continue training (one epoch on made-up data) with
 * whatever position it claims. */
#include <math.h>

#include "fuzz.h"
#include "tinymlp.h"

static void same_params(tmlp_net *a, tmlp_net *b)
{
    size_t na, nb;
    float *pa = tmlp_net_params(a, &na), *pb = tmlp_net_params(b, &nb);
    if (na != nb || memcmp(pa, pb, na * sizeof *pa))
        abort();
}

static void model(const char *path)
{
    tmlp_err err;
    tmlp_model_meta meta;
    tmlp_net *net = tmlp_model_read(path, 8, &meta, &err);
    if (!net) {
        if (!err.msg[0] || meta.n)
            abort();
        return;
    }
    const char *again = fuzz_path(1, NULL);
    tmlp_model_meta back_meta;
    if (tmlp_model_write(again, net, &meta, &err) == TMLP_OK) {
        tmlp_net *back = tmlp_model_read(again, 8, &back_meta, &err);
        if (!back || back_meta.n != meta.n)
            abort();
        same_params(net, back);
        tmlp_net_free(back);
        tmlp_model_meta_free(&back_meta);
        unlink(again);
    }
    tmlp_model_meta_free(&meta);
    tmlp_net_free(net);
}

/* One epoch from the checkpoint's position on rows of zeros with label 0. */
static void train_on(tmlp_checkpoint *ck)
{
    const tmlp_net_spec *s = tmlp_net_get_spec(ck->net);
    int rows = 2 * ck->cfg.batch, n_in = s->n_in;
    if ((double)rows * n_in > 1e6)
        return;
    tmlp_data *d = tmlp_data_new(rows, n_in, 2, tmlp_net_n_out(ck->net), NULL);
    if (!d)
        return;
    if (ck->state.epoch < ck->cfg.epochs)           /* one epoch at most */
        ck->cfg.epochs = ck->state.epoch + 1;
    ck->cfg.early_stop = 0;                         /* no validation set here */
    tmlp_err err;
    int rc = tmlp_train(ck->net, ck->opt, d, NULL, &ck->cfg, NULL, &err);
    if (rc != TMLP_OK && (!err.msg[0]))
        abort();
    tmlp_data_free(d);
}

static void checkpoint(const char *path)
{
    tmlp_err err;
    tmlp_checkpoint ck, back;
    if (tmlp_checkpoint_peek(path, &ck, &err) == TMLP_OK)
        tmlp_checkpoint_free(&ck);
    if (tmlp_checkpoint_read(path, 64, &ck, &err) != TMLP_OK) {
        if (ck.net || ck.opt || !err.msg[0])
            abort();
        return;
    }
    const char *again = fuzz_path(1, NULL);
    if (tmlp_checkpoint_write(again, ck.net, ck.opt, &ck.cfg, &ck.state, &ck.meta, &err) ==
        TMLP_OK) {
        if (tmlp_checkpoint_read(again, 64, &back, &err) != TMLP_OK)
            abort();
        same_params(ck.net, back.net);
        if (back.state.epoch != ck.state.epoch || back.state.batch != ck.state.batch ||
            back.state.rng.state != ck.state.rng.state || tmlp_optim_steps(back.opt) !=
            tmlp_optim_steps(ck.opt))
            abort();
        tmlp_checkpoint_free(&back);
        unlink(again);
    }
    train_on(&ck);
    tmlp_checkpoint_free(&ck);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > (1u << 20))
        return 0;
    const char *path = fuzz_path(0, ".safetensors");
    if (!fuzz_write(path, data + 1, size - 1))
        return 0;
    if (data[0] & 1)
        model(path);
    else
        checkpoint(path);
    unlink(path);
    return 0;
}
