/* observe.c: watch a network learn, layer by layer.
 *
 * tmlp_train reports progress through observers: callbacks it calls after every batch and
 * every epoch. This one looks inside the net after each epoch (tmlp_net_layer) and prints
 * the size of each layer's weight gradient, ||dW|| (tmlp_norm2). The network is a deep stack
 * of sigmoids, where the gradient shrinks on its way back to the first layer: the
 * "vanishing gradient" that made deep nets hard to train before ReLU.
 *
 *   build/examples/observe        (built by `make`)                                      */
#include <stdio.h>
#include <tinymlp.h>

/* Called by tmlp_train after each epoch. The gradients it reads are those of the epoch's last
 * batch (the optimizer has used them; nothing has overwritten them yet). */
static int on_epoch(void *ctx, const tmlp_epoch_info *e)
{
    int *every = ctx;
    if (e->epoch % *every != 0)
        return 0;                             /* 0: keep training */
    printf("epoch %4d  loss %.4f  ", e->epoch, e->train_loss);
    int n_layers = tmlp_net_get_spec(e->net)->n_layers;
    for (int i = 0; i < n_layers; i++) {
        tmlp_layer_view v;
        if (tmlp_net_layer(e->net, i, &v, NULL) != TMLP_OK)
            return 1;                         /* nonzero: stop training */
        printf("  ||dW%d|| %.2e", i + 1, tmlp_norm2(v.dW, (size_t)v.n_out * v.n_in));
    }
    printf("\n");
    return 0;
}

int main(void)
{
    tmlp_err err = { 0 };
    tmlp_net *net = NULL;
    tmlp_optim *opt = NULL;
    int status = 1;

    tmlp_data *xor = tmlp_data_xor(&err);
    if (!xor)
        goto done;

    /* 2 inputs -> three sigmoid layers of 8 -> 1 logistic output. */
    tmlp_net_spec spec;
    tmlp_net_spec_init(&spec, 2, TMLP_LOSS_SIGMOID_BCE);
    if (tmlp_net_spec_parse(&spec, "8:sigmoid,8:sigmoid,8:sigmoid,1", &err) != TMLP_OK)
        goto done;
    if (!(net = tmlp_net_new(&spec, 4, &err)))
        goto done;
    tmlp_rng rng;
    tmlp_rng_seed(&rng, 1, 0);
    if (tmlp_net_init(net, &rng, &err) != TMLP_OK)
        goto done;
    tmlp_optim_cfg oc = tmlp_optim_defaults(TMLP_OPT_ADAM);
    oc.lr = 0.02f;
    size_t n_params;
    tmlp_net_params(net, &n_params);
    if (!(opt = tmlp_optim_new(&oc, n_params, &err)))
        goto done;

    /* The observer: which callbacks, and a pointer they receive (here: print every 100th). */
    int every = 100;
    tmlp_observer obs = { .on_batch = NULL, .on_epoch = on_epoch, .ctx = &every };
    tmlp_train_cfg tc = tmlp_train_defaults();
    tc.epochs = 1000;
    tc.batch = 4;
    if (tmlp_train(net, opt, xor, NULL, &tc, &obs, &err) != TMLP_OK)
        goto done;

    double acc;
    if (tmlp_evaluate(net, xor, NULL, &acc, &err) != TMLP_OK)
        goto done;
    printf("accuracy after training: %.0f%%\n", 100.0 * acc);
    status = 0;

done:
    if (err.code != TMLP_OK)
        fprintf(stderr, "observe: %s\n", err.msg);
    tmlp_optim_free(opt);
    tmlp_net_free(net);
    tmlp_data_free(xor);
    return status;
}
