/* inference.c: load a trained model and ask it questions.
 *
 * Training and using a model are usually two programs. This is the second one: it loads a
 * model file written by `tinymlp train --save` (or by tmlp_model_write in your own program)
 * and prints a class for each row of comma-separated inputs it reads on standard input.
 *
 *   build/tinymlp train --data xor --quiet --save xor.safetensors
 *   printf '0,0\n0,1\n1,0\n1,1\n' | build/examples/inference xor.safetensors
 *
 * `tinymlp predict` is the full version of this program (headers, file names, --probs). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <tinymlp.h>

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: inference MODEL < rows.csv\n");
        return 2;
    }
    tmlp_err err = { 0 };
    tmlp_model_meta meta = { 0 };  /* the model's metadata: tmlp_model_read fills it */
    float *x = NULL, *prob = NULL;
    int status = 1;

    /* 1. Load the model: the file holds the architecture and the trained weights. We predict
     *    one row at a time, so the net needs room for batches of 1 row. */
    tmlp_net *net = tmlp_model_read(argv[1], 1, &meta, &err);
    if (!net)
        goto done;
    int n_in = tmlp_net_n_in(net), n_out = tmlp_net_n_out(net);

    /* 2. Inputs must be scaled as they were in training. `tinymlp train` records that in the
     *    model's metadata: MNIST pixels 0..255 were multiplied by 1/255. */
    const char *s = tmlp_model_meta_get(&meta, "input_scale");
    float scale = s ? strtof(s, NULL) : 1.0f;
    if (tmlp_model_meta_get(&meta, "input_mean")) {
        tmlp_fail(&err, TMLP_EINVAL, "%s was trained with --standardize: use `tinymlp predict`, "
                  "which applies it", argv[1]);
        goto done;
    }

    /* 3. Read a row, predict, print. tmlp_net_predict applies the output link, so `prob`
     *    holds probabilities: one per class, or for a single output the chance of class 1. */
    x = malloc((size_t)n_in * sizeof *x);
    prob = malloc((size_t)n_out * sizeof *prob);
    if (!x || !prob) {
        tmlp_fail(&err, TMLP_ENOMEM, "no memory");
        goto done;
    }
    static char line[1 << 16];
    for (int lineno = 1; fgets(line, sizeof line, stdin); lineno++) {
        char *p = line, *end;
        if (line[strspn(line, " \t\r\n")] == '\0')
            continue;                          /* a blank line */
        for (int j = 0; j < n_in; j++, p = end + 1) {   /* n_in numbers, comma-separated */
            x[j] = strtof(p, &end) * scale;
            if (end == p || (j + 1 < n_in && *end != ',')) {
                tmlp_fail(&err, TMLP_EINVAL, "line %d: expected %d comma-separated numbers", lineno,
                          n_in);
                goto done;
            }
        }
        if (tmlp_net_predict(net, x, 1, prob, &err) != TMLP_OK)
            goto done;
        int cls = 0;
        float p_cls;
        if (n_out == 1) {                      /* one logistic output: class 1 if p > 0.5 */
            cls = prob[0] > 0.5f;
            p_cls = cls ? prob[0] : 1.0f - prob[0];
        } else {                               /* softmax: the most probable class */
            for (int k = 1; k < n_out; k++)
                if (prob[k] > prob[cls])
                    cls = k;
            p_cls = prob[cls];
        }
        printf("line %d: class %d (probability %.4f)\n", lineno, cls, (double)p_cls);
    }
    status = 0;

done:
    if (err.code != TMLP_OK)
        fprintf(stderr, "inference: %s\n", err.msg);
    free(x);
    free(prob);
    tmlp_model_meta_free(&meta);                   /* each _free accepts an empty or NULL one */
    tmlp_net_free(net);
    return status;
}
