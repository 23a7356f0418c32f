/* fuzz_checkpoint.c: the checkpoint reader's values: counters, positions, settings.
 *
 * Input: a mode byte, the checkpoint's JSON header, a NUL byte, then its data section. The
 * target writes the 8-byte header length itself, so a mutation of a value (libFuzzer's
 * dictionary, fuzz/fuzz_checkpoint.dict, holds the limit integers) still reaches the reader
 * as a well-formed file rather than dying on the length. Whatever loads is saved and loaded
 * back to the same position, then trains from the position it claims, for at most one
 * epoch on (mode % 8 + 1) x batch rows of made-up data: a counter that could overflow is a
 * UBSan report, and a limit the reader lets through that training then refuses is fine. */
#include "fuzz.h"
#include "tinymlp.h"

/* The epoch the checkpoint is in, on rows_per_batch x batch rows of zeros, label 0. */
static void train_on(tmlp_checkpoint *ck, int batches)
{
    const tmlp_net_spec *s = tmlp_net_get_spec(ck->net);
    double rows = (double)batches * ck->cfg.batch;
    if (rows * s->n_in > 1e6 || rows * tmlp_net_n_out(ck->net) > 1e6)
        return;
    tmlp_data *d = tmlp_data_new((int)rows, s->n_in, 2, tmlp_net_n_out(ck->net), NULL);
    if (!d)
        return;
    if (ck->state.epoch < ck->cfg.epochs)           /* one epoch at most */
        ck->cfg.epochs = ck->state.epoch + 1;
    ck->cfg.early_stop = 0;                         /* no validation set here */
    tmlp_err err;
    long steps = tmlp_optim_steps(ck->opt);
    int rc = tmlp_train(ck->net, ck->opt, d, NULL, &ck->cfg, NULL, &err);
    if (rc != TMLP_OK && !err.msg[0])
        abort();
    if (tmlp_optim_steps(ck->opt) < steps)          /* a step count never goes back */
        abort();
    tmlp_data_free(d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2 || size > (1u << 20))
        return 0;
    int mode = data[0];
    const uint8_t *hdr = data + 1, *nul = memchr(hdr, 0, size - 1);
    if (!nul)
        return 0;
    size_t n_hdr = (size_t)(nul - hdr), n_data = size - 1 - n_hdr - 1;
    uint8_t *file = malloc(8 + n_hdr + n_data);
    if (!file)
        return 0;
    for (int i = 0; i < 8; i++)
        file[i] = (uint8_t)((uint64_t)n_hdr >> (8 * i));
    memcpy(file + 8, hdr, n_hdr);
    memcpy(file + 8 + n_hdr, nul + 1, n_data);
    const char *path = fuzz_path(0, ".ckpt");
    int written = fuzz_write(path, file, 8 + n_hdr + n_data);
    free(file);
    if (!written)
        return 0;
    tmlp_err err;
    tmlp_checkpoint ck, back;
    if (tmlp_checkpoint_peek(path, &ck, &err) == TMLP_OK)
        tmlp_checkpoint_free(&ck);
    else if (!err.msg[0])
        abort();
    if (tmlp_checkpoint_read(path, 64, &ck, &err) != TMLP_OK) {
        if (ck.net || ck.opt || !err.msg[0])
            abort();
        unlink(path);
        return 0;
    }
    const char *again = fuzz_path(1, ".ckpt");
    if (tmlp_checkpoint_write(again, ck.net, ck.opt, &ck.cfg, &ck.state, &ck.meta, &err) ==
        TMLP_OK) {
        if (tmlp_checkpoint_read(again, 64, &back, &err) != TMLP_OK)
            abort();                                /* what we write, we read */
        if (back.state.epoch != ck.state.epoch || back.state.batch != ck.state.batch ||
            back.state.rows != ck.state.rows || back.state.skipped != ck.state.skipped ||
            tmlp_optim_steps(back.opt) != tmlp_optim_steps(ck.opt))
            abort();
        tmlp_checkpoint_free(&back);
        unlink(again);
    }
    train_on(&ck, mode % 8 + 1);
    tmlp_checkpoint_free(&ck);
    unlink(path);
    return 0;
}
