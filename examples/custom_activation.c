/* custom_activation.c: define your own activation function and train with it.
 *
 * tinymlp's built-in activations (relu, tanh, gelu, ...) are plain data: a tmlp_act struct
 * holding a name, a forward function and a backward function. Yours can be too, defined in
 * your own file, without recompiling tinymlp. This example defines the "bent identity"
 *
 *     f(x)  = (sqrt(x^2 + 1) - 1) / 2 + x
 *     f'(x) = x / (2 sqrt(x^2 + 1)) + 1
 *
 * which tinymlp does not have, trains a 2-4-1 network with it on XOR, prints the truth table,
 * and then registers it so it can also be used by name ("4:bent_identity").
 *
 * Build and run (from the tinymlp source tree):  make && build/examples/custom_activation
 * Exit status 0 when the network gets all four XOR cases right. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "tinymlp.h"

/* y = f(x) for a whole (rows, cols) block at once. tinymlp calls this once per layer, so the
 * loop lives here. `arg` and `param` are for parameterised activations; we have none. */
static void bent_forward(int rows, int cols, const float *x, float *y, float arg,
                         const float *param)
{
    (void)arg; (void)param;
    for (long i = 0; i < (long)rows * cols; i++)
        y[i] = (sqrtf(x[i] * x[i] + 1.0f) - 1.0f) / 2.0f + x[i];
}

/* Backpropagation: given dy = dLoss/dy, write dx = dy * f'(x). (x is the input of the
 * forward pass and y its output; use whichever makes f' cheaper.) */
static void bent_backward(int rows, int cols, const float *x, const float *y, const float *dy,
                          float *dx, float arg, const float *param, float *dparam)
{
    (void)y; (void)arg; (void)param; (void)dparam;
    for (long i = 0; i < (long)rows * cols; i++)
        dx[i] = dy[i] * (x[i] / (2.0f * sqrtf(x[i] * x[i] + 1.0f)) + 1.0f);
}

/* The definition. Fields left out are zero: no flags, no ':arg', no learnable parameters,
 * and the default (Glorot) weight initializer. */
static const tmlp_act bent_identity = {
    .name = "bent_identity",
    .formula = "(sqrt(x^2 + 1) - 1) / 2 + x",
    .range = "(-inf, inf)",
    .forward = bent_forward,
    .backward = bent_backward,
};

/* Exits with a message if a tinymlp call failed (the library itself never prints or exits). */
static void check(int rc, const tmlp_err *err)
{
    if (rc != TMLP_OK) {
        fprintf(stderr, "custom_activation: %s\n", err->msg);
        exit(1);
    }
}

int main(void)
{
    tmlp_err err = { 0 };

    /* 0. Before trusting a hand-written derivative, compare it with finite differences. */
    tmlp_gradcheck_result gc;
    check(tmlp_gradcheck_act(&bent_identity, 0.0f, 0.0f, 0.0, &gc, &err), &err);
    printf("gradient check of %s: %d of %d derivatives off\n", bent_identity.name, gc.n_failed,
           gc.n_checked);

    /* 1. A 2-4-1 network: 2 inputs, 4 hidden units using our activation (passed by pointer,
     *    no registration needed), 1 output. sigmoid_bce applies the sigmoid to the output
     *    itself, so the output layer has no activation (NULL). */
    tmlp_net_spec spec;
    tmlp_net_spec_init(&spec, 2, TMLP_LOSS_SIGMOID_BCE);
    check(tmlp_net_spec_add(&spec, 4, &bent_identity, 0.0f, &err), &err);
    check(tmlp_net_spec_add(&spec, 1, NULL, 0.0f, &err), &err);

    tmlp_data *xor = tmlp_data_xor(&err);         /* the four rows of XOR */
    tmlp_net *net = tmlp_net_new(&spec, xor ? xor->n : 1, &err);
    if (!xor || !net)
        check(err.code, &err);
    tmlp_rng rng;
    tmlp_rng_seed(&rng, 42, 1);                    /* same seed, same result */
    check(tmlp_net_init(net, &rng, &err), &err);

    /* 2. Train with Adam on all four rows at once. */
    tmlp_optim_cfg ocfg = tmlp_optim_defaults(TMLP_OPT_ADAM);
    ocfg.lr = 0.05f;
    size_t n_params;
    tmlp_net_params(net, &n_params);
    tmlp_optim *opt = tmlp_optim_new(&ocfg, n_params, &err);
    if (!opt)
        check(err.code, &err);
    tmlp_train_cfg tcfg = tmlp_train_defaults();
    tcfg.epochs = 1000;
    tcfg.batch = xor->n;
    check(tmlp_train(net, opt, xor, NULL, &tcfg, NULL, &err), &err);

    /* 3. The truth table: the network's probability that a xor b = 1. */
    float prob[4];
    int right = 0;
    check(tmlp_net_predict(net, xor->x, 4, prob, &err), &err);
    printf(" a  b  a xor b  net says\n");
    for (int i = 0; i < 4; i++) {
        int said = prob[i] > 0.5f;
        right += said == xor->label[i];
        printf(" %g  %g     %d     %.4f %s\n", (double)xor->x[2 * i], (double)xor->x[2 * i + 1],
               xor->label[i], (double)prob[i], said == xor->label[i] ? "right" : "WRONG");
    }

    /* 4. Registering the definition makes it usable by name: in layer strings, model files
     *    and `tmlp_act_parse`. The struct must outlive its use (ours is static). */
    check(tmlp_act_register(&bent_identity, &err), &err);
    const tmlp_act *found;
    check(tmlp_act_parse("bent_identity", &found, NULL, &err), &err);
    tmlp_net_spec by_name;
    tmlp_net_spec_init(&by_name, 2, TMLP_LOSS_SIGMOID_BCE);
    check(tmlp_net_spec_parse(&by_name, "4:bent_identity,1", &err), &err);
    printf("by name: \"bent_identity\" finds our definition: %s; \"4:bent_identity,1\" uses it: %s\n",
           found == &bent_identity ? "yes" : "NO", by_name.layer[0].act == &bent_identity ? "yes" : "NO");

    tmlp_optim_free(opt);
    tmlp_net_free(net);
    tmlp_data_free(xor);
    printf("%d of 4 right\n", right);
    return right == 4 && found == &bent_identity ? 0 : 1;
}
