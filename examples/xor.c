/* xor.c: the smallest complete tinymlp program.
 *
 * XOR is the classic problem a single layer cannot learn: the output is 1 when exactly one
 * input is 1. A 2-4-1 network with a tanh hidden layer learns it in a few hundred steps.
 *
 *   build/examples/xor        (built by `make`)                                          */
#include <stdio.h>
#include <tinymlp.h>

int main(void)
{
    tmlp_err err = { 0 };
    tmlp_net *net = NULL;
    tmlp_optim *opt = NULL;
    int status = 1;

    /* 1. The data: four rows of two inputs, labels 0 or 1. */
    tmlp_data *xor = tmlp_data_xor(&err);
    if (!xor)
        goto done;

    /* 2. The network: 2 inputs -> 4 tanh units -> 1 output. The output is a logit; the loss
     *    (sigmoid + binary cross-entropy, fused for stability) turns it into a probability. */
    tmlp_net_spec spec;
    tmlp_net_spec_init(&spec, 2, TMLP_LOSS_SIGMOID_BCE);
    if (tmlp_net_spec_parse(&spec, "4:tanh,1", &err) != TMLP_OK)
        goto done;
    net = tmlp_net_new(&spec, 4, &err);     /* batches of up to 4 rows */
    if (!net)
        goto done;

    /* 3. Random starting weights from a seeded generator: same seed, same run. */
    tmlp_rng rng;
    tmlp_rng_seed(&rng, 42, 0);
    tmlp_net_init(net, &rng, &err);

    /* 4. An optimizer over the net's flat parameter block. */
    tmlp_optim_cfg cfg = tmlp_optim_defaults(TMLP_OPT_ADAM);
    cfg.lr = 0.05f;
    size_t n_params;
    tmlp_net_params(net, &n_params);
    opt = tmlp_optim_new(&cfg, n_params, &err);
    if (!opt)
        goto done;

    /* 5. Train: 1000 epochs of one batch holding all four rows. */
    tmlp_train_cfg train = tmlp_train_defaults();
    train.epochs = 1000;
    train.batch = 4;
    if (tmlp_train(net, opt, xor, NULL, &train, NULL, &err) != TMLP_OK)
        goto done;

    /* 6. Ask the network. tmlp_net_predict applies the sigmoid for us. */
    float p[4];
    tmlp_net_predict(net, xor->x, 4, p, &err);
    int right = 0;
    for (int i = 0; i < 4; i++) {
        int guess = p[i] > 0.5f;
        right += guess == xor->label[i];
        printf("%g xor %g -> %.3f (%d)\n", (double)xor->x[2 * i], (double)xor->x[2 * i + 1],
               (double)p[i], guess);
    }
    printf("%d/4 right\n", right);
    status = right == 4 ? 0 : 1;

done:
    if (err.code != TMLP_OK)
        fprintf(stderr, "xor: %s\n", err.msg);
    tmlp_optim_free(opt);                          /* each _free accepts NULL */
    tmlp_net_free(net);
    tmlp_data_free(xor);
    return status;
}
