/* mnist.c: the classic handwritten-digit network, start to finish.
 *
 * Loads MNIST from data/mnist (`make data` fetches it), trains the classic 784-128-64-10
 * network (ReLU hidden layers, softmax + cross-entropy) with Adam, prints its accuracy on
 * the 10 000 test images and saves it as mnist.safetensors, which `tinymlp eval` and
 * `tinymlp predict` read.
 *
 *   build/examples/mnist [DATA_DIR [ROWS [EPOCHS [MODEL]]]]      (built by `make`)
 *
 * DATA_DIR defaults to data/mnist, ROWS (use only the first ROWS training and ROWS test
 * images; 0, the default, uses all 60 000 and 10 000) to 0, EPOCHS to 5 and MODEL to
 * mnist.safetensors. The tests run it on 2 000 rows for 2 epochs, and under valgrind on 300
 * rows. Exit status 0 on success, 1 on an error (one line on stderr), 2 for bad arguments. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <tinymlp.h>

/* A whole number from argv[i], or def when absent; -1 when it is not a number in 0..max. */
static long arg_long(int argc, char **argv, int i, long def, long max)
{
    if (i >= argc)
        return def;
    char *end;
    long v = strtol(argv[i], &end, 10);
    return end == argv[i] || *end || v < 0 || v > max ? -1 : v;
}

int main(int argc, char **argv)
{
    tmlp_err err = { 0 };
    tmlp_data *train = NULL, *test = NULL, *part = NULL, *test_part = NULL;
    tmlp_net *net = NULL;
    tmlp_optim *opt = NULL;
    tmlp_model_meta meta;
    tmlp_model_meta_init(&meta);
    int status = 1, *idx = NULL;
    const char *dir = argc > 1 ? argv[1] : "data/mnist";
    const char *model = argc > 4 ? argv[4] : "mnist.safetensors";
    long rows = arg_long(argc, argv, 2, 0, 60000), epochs = arg_long(argc, argv, 3, 5, 1000);
    if (argc > 5 || rows < 0 || epochs < 1) {
        fprintf(stderr, "usage: mnist [DATA_DIR [ROWS (0 = all) [EPOCHS (>= 1) [MODEL]]]]\n");
        return 2;
    }

    /* 1. The data: 60 000 training and 10 000 test images of 28x28 pixels, scaled to [0, 1]. */
    if (tmlp_idx_load_folder(dir, &train, &test, &err) != TMLP_OK)
        goto done;
    if (rows > 0 && rows < train->n) { /* the first ROWS images only */
        idx = malloc((size_t)rows * sizeof *idx);
        if (!idx) {
            tmlp_fail(&err, TMLP_ENOMEM, "no memory");
            goto done;
        }
        for (int i = 0; i < (int)rows; i++)
            idx[i] = i;
        if (!(part = tmlp_data_subset(train, idx, (int)rows, &err)))
            goto done;
        if (rows < test->n && !(test_part = tmlp_data_subset(test, idx, (int)rows, &err)))
            goto done;
    }
    const tmlp_data *data = part ? part : train, *check = test_part ? test_part : test;
    printf("%d training images, %d test images, %d classes\n", data->n, check->n,
           train->n_classes);

    /* 2. The network: 784 inputs -> 128 ReLU -> 64 ReLU -> 10 logits. The softmax lives in
     *    the loss (fused with the cross-entropy), so the output layer has no activation. */
    enum { BATCH = 64 };
    tmlp_net_spec spec;
    tmlp_net_spec_init(&spec, data->n_in, TMLP_LOSS_SOFTMAX_CE);
    if (tmlp_net_spec_parse(&spec, "128:relu,64:relu,10", &err) != TMLP_OK)
        goto done;
    if (!(net = tmlp_net_new(&spec, BATCH, &err)))
        goto done;
    tmlp_rng rng;
    tmlp_rng_seed(&rng, 1, 0);
    if (tmlp_net_init(net, &rng, &err) != TMLP_OK) /* He initialisation for ReLU layers */
        goto done;

    /* 3. Adam over the net's one parameter block. */
    tmlp_optim_cfg cfg = tmlp_optim_defaults(TMLP_OPT_ADAM);
    cfg.lr = 1e-3f;
    size_t n_params;
    tmlp_net_params(net, &n_params);
    if (!(opt = tmlp_optim_new(&cfg, n_params, &err)))
        goto done;

    /* 4. Train: shuffled batches of 64, EPOCHS passes over the data. */
    tmlp_train_cfg tc = tmlp_train_defaults();
    tc.epochs = (int)epochs;
    tc.batch = BATCH;
    tc.seed = 1;
    if (tmlp_train(net, opt, data, NULL, &tc, NULL, &err) != TMLP_OK)
        goto done;

    /* 5. Accuracy on test images it never saw. */
    double loss, acc;
    if (tmlp_evaluate(net, check, &loss, &acc, &err) != TMLP_OK)
        goto done;
    printf("%zu parameters, %ld epoch%s: test accuracy %.2f%%, loss %.4f\n", n_params, epochs,
           epochs == 1 ? "" : "s", 100.0 * acc, loss);

    /* 6. Save it. input_scale tells `tinymlp predict` that rows come in pixels (0..255). */
    char scale[32];
    snprintf(scale, sizeof scale, "%.9g", 1.0 / 255.0);
    if (tmlp_model_meta_set(&meta, "input_scale", scale, &err) != TMLP_OK ||
        tmlp_model_meta_set(&meta, "data", "mnist", &err) != TMLP_OK ||
        tmlp_model_write(model, net, &meta, &err) != TMLP_OK)
        goto done;
    printf("model saved to %s\n", model);
    status = 0;

done:
    if (err.code != TMLP_OK)
        fprintf(stderr, "mnist: %s\n", err.msg);
    tmlp_model_meta_free(&meta);
    tmlp_optim_free(opt);
    tmlp_net_free(net);
    tmlp_data_free(part);
    tmlp_data_free(test_part);
    tmlp_data_free(train);
    tmlp_data_free(test);
    free(idx);
    return status;
}
