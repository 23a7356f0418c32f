/* test_docs.c: the teaching trace. `tinymlp explain --json` prints every number of one
 * training step; this suite recomputes them with its own small double-precision MLP (its own
 * activations, losses, backward pass and optimizer rules, none of the library's code) and
 * checks that the printed numbers are the true ones. It runs the CLI built next to it
 * (BUILD/tinymlp, found from /proc/self/exe). */
#include <stdio.h>
#include <unistd.h>

#include <cJSON.h>

#include "testutil.h"

#define MAXN 64   /* rows, units: the nets here are tiny */
#define TOL 2e-5  /* float32 BLAS against a double reference */

static char cli[4096];

/* Runs `tinymlp explain ARGS --json` and returns the parsed output (caller deletes it). */
static cJSON *explain(const char *args)
{
    if (!cli[0]) {
        ssize_t n = readlink("/proc/self/exe", cli, sizeof cli - 32);
        ck_assert(n > 0);
        cli[n] = '\0';
        *strrchr(cli, '/') = '\0';             /* BUILD/tests */
        strcpy(strrchr(cli, '/'), "/tinymlp"); /* BUILD/tinymlp */
    }
    char cmd[8192];
    snprintf(cmd, sizeof cmd, "'%s' explain %s --json", cli, args);
    FILE *p = popen(cmd, "r");
    ck_assert_msg(p != NULL, "cannot run %s", cmd);
    static char out[1 << 20];
    size_t len = fread(out, 1, sizeof out - 1, p);
    out[len] = '\0';
    int status = pclose(p);
    ck_assert_msg(status == 0, "%s exited with status %d", cmd, status);
    cJSON *j = cJSON_Parse(out);
    ck_assert_msg(j != NULL, "%s printed no JSON", cmd);
    return j;
}

/* A JSON matrix (or vector, as one row) into m[rows][cols]; checks the shape. */
static void get(const cJSON *obj, const char *key, int rows, int cols, double m[MAXN][MAXN])
{
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(obj, key);
    ck_assert_msg(cJSON_IsArray(a), "no array '%s'", key);
    int vec = !cJSON_IsArray(cJSON_GetArrayItem(a, 0));
    ck_assert_int_eq(cJSON_GetArraySize(a), vec ? cols : rows);
    for (int r = 0; r < rows; r++)
        for (int c = 0; c < cols; c++) {
            const cJSON *x = vec ? cJSON_GetArrayItem(a, c)
                                 : cJSON_GetArrayItem(cJSON_GetArrayItem(a, r), c);
            ck_assert_msg(cJSON_IsNumber(x), "%s[%d][%d] is not a number", key, r, c);
            m[r][c] = x->valuedouble;
        }
}

static double num(const cJSON *obj, const char *key)
{
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(obj, key);
    ck_assert_msg(cJSON_IsNumber(x), "no number '%s'", key);
    return x->valuedouble;
}

/* Compares printed m against want elementwise. */
static void expect(const char *what, int layer, double m[MAXN][MAXN], double want[MAXN][MAXN],
                   int rows, int cols)
{
    for (int r = 0; r < rows; r++)
        for (int c = 0; c < cols; c++)
            ck_assert_msg(fabs(m[r][c] - want[r][c]) <= TOL * fmax(1.0, fabs(want[r][c])),
                          "layer %d %s[%d][%d] printed %.9g, reference %.9g", layer + 1, what, r, c,
                          m[r][c], want[r][c]);
}

/* ---- the reference: activations (value, derivative), in double ---- */

static double f(const char *act, double x, double a, double *d)
{
    if (!strcmp(act, "identity")) { *d = 1; return x; }
    if (!strcmp(act, "tanh")) { double t = tanh(x); *d = 1 - t * t; return t; }
    if (!strcmp(act, "sigmoid")) { double s = 1 / (1 + exp(-x)); *d = s * (1 - s); return s; }
    if (!strcmp(act, "relu")) { *d = x > 0; return x > 0 ? x : 0; }
    if (!strcmp(act, "leaky_relu") || !strcmp(act, "prelu")) {
        *d = x > 0 ? 1 : a;
        return x > 0 ? x : a * x;
    }
    if (!strcmp(act, "elu")) { *d = x > 0 ? 1 : exp(x); return x > 0 ? x : expm1(x); }
    ck_abort_msg("the reference has no activation '%s'", act);
    return 0;
}

typedef struct layer {
    int n_in, n_out, n_ap;
    char act[64];
    double arg;
    /* every block is a full MAXN x MAXN array; vectors (b, ap, db, dap) use row 0 */
    double W[MAXN][MAXN], b[MAXN][MAXN], ap[MAXN][MAXN];  /* before the update */
    double Z[MAXN][MAXN], A[MAXN][MAXN], D[MAXN][MAXN];     /* D = f'(Z) */
    double dA[MAXN][MAXN], dZ[MAXN][MAXN], dW[MAXN][MAXN], db[MAXN][MAXN], dap[MAXN][MAXN];
} layer;

typedef struct ref {
    int rows, n_in, n_out, n_layers, loss; /* loss: 0 softmax_ce, 1 sigmoid_bce, 2 mse */
    double X[MAXN][MAXN], T[MAXN][MAXN], L;
    layer l[4];
} ref;

/* Forward, loss and backward of the net whose weights are in R, from X and T. */
static void reference(ref *R)
{
    int B = R->rows;
    for (int i = 0; i < R->n_layers; i++) {
        layer *l = &R->l[i];
        double (*in)[MAXN] = i ? R->l[i - 1].A : R->X;
        for (int r = 0; r < B; r++)
            for (int j = 0; j < l->n_out; j++) {
                double z = l->b[0][j];
                for (int k = 0; k < l->n_in; k++)
                    z += in[r][k] * l->W[j][k];
                double a = l->n_ap ? l->ap[0][l->n_ap == 1 ? 0 : j] : l->arg;
                l->Z[r][j] = z;
                l->A[r][j] = f(l->act, z, a, &l->D[r][j]);
            }
    }
    layer *o = &R->l[R->n_layers - 1];
    int K = R->n_out;
    R->L = 0;
    for (int r = 0; r < B; r++) {
        double m = o->Z[r][0], s = 0;
        for (int j = 1; j < K; j++)
            m = fmax(m, o->Z[r][j]);
        for (int j = 0; j < K; j++)
            s += exp(o->Z[r][j] - m);
        for (int j = 0; j < K; j++) {
            double z = o->Z[r][j], t = R->T[r][j], p;
            switch (R->loss) {
            case 0: /* softmax cross-entropy: -log p_y, dZ = (p - y) / B */
                p = exp(z - m) / s;
                R->L += -t * (z - m - log(s)) / B;
                o->dA[r][j] = (p - t) / B;
                break;
            case 1: /* binary cross-entropy of sigmoid(z): dZ = (p - t) / (B K) */
                p = 1 / (1 + exp(-z));
                R->L += -(t * log(p) + (1 - t) * log(1 - p)) / (B * K);
                o->dA[r][j] = (p - t) / (B * K);
                break;
            default: /* mean squared error: dZ = 2 (z - t) / (B K) */
                R->L += (z - t) * (z - t) / (B * K);
                o->dA[r][j] = 2 * (z - t) / (B * K);
            }
        }
    }
    for (int i = R->n_layers - 1; i >= 0; i--) {
        layer *l = &R->l[i];
        double (*in)[MAXN] = i ? R->l[i - 1].A : R->X;
        memset(l->dap, 0, sizeof l->dap);
        for (int r = 0; r < B; r++)
            for (int j = 0; j < l->n_out; j++) {
                l->dZ[r][j] = l->dA[r][j] * l->D[r][j];        /* dZ = dA ⊙ f'(Z) */
                if (l->n_ap && l->Z[r][j] <= 0)                /* prelu: d/da of a·z */
                    l->dap[0][l->n_ap == 1 ? 0 : j] += l->dA[r][j] * l->Z[r][j];
            }
        for (int j = 0; j < l->n_out; j++) {
            l->db[0][j] = 0;
            for (int r = 0; r < B; r++)
                l->db[0][j] += l->dZ[r][j];                    /* db = Σrows dZ */
            for (int k = 0; k < l->n_in; k++) {
                l->dW[j][k] = 0;
                for (int r = 0; r < B; r++)
                    l->dW[j][k] += l->dZ[r][j] * in[r][k];     /* dW = dZᵀ·X */
            }
        }
        if (i > 0)
            for (int r = 0; r < B; r++)
                for (int k = 0; k < l->n_in; k++) {
                    double s = 0;
                    for (int j = 0; j < l->n_out; j++)
                        s += l->dZ[r][j] * l->W[j][k];         /* dX = dZ·W */
                    R->l[i - 1].dA[r][k] = s;
                }
    }
}

/* One optimizer step from zero state (step 1), as torch.optim defines it. */
static double step1(const char *opt, double lr, double p, double g)
{
    if (!strcmp(opt, "sgd") || !strcmp(opt, "momentum"))
        return p - lr * g;                                    /* v = g at the first step */
    if (!strcmp(opt, "nesterov"))
        return p - lr * (g + 0.9 * g);
    if (!strcmp(opt, "rmsprop"))
        return p - lr * g / (sqrt(0.01 * g * g) + 1e-8);       /* alpha 0.99: s = 0.01 g² */
    if (!strcmp(opt, "adagrad"))
        return p - lr * g / (sqrt(g * g) + 1e-10);             /* s = g² */
    double m = 0.1 * g, s = 0.001 * g * g;                    /* betas (0.9, 0.999) */
    double upd = lr * (m / 0.1) / (sqrt(s / 0.001) + 1e-8);
    if (!strcmp(opt, "adamw"))
        return p * (1 - lr * 0.01) - upd;                     /* weight decay 0.01 */
    ck_assert_str_eq(opt, "adam");
    return p - upd;
}

/* Loads the printed net into R, recomputes the step, and checks every printed number. */
static void check_explain(const char *args, const char *opt, int loss)
{
    cJSON *j = explain(args);
    ref *R = calloc(1, sizeof *R);
    const cJSON *layers = cJSON_GetObjectItemCaseSensitive(j, "layers");
    R->n_layers = cJSON_GetArraySize(layers);
    ck_assert(R->n_layers >= 2 && R->n_layers <= 4);
    R->rows = (int)num(j, "rows");
    R->loss = loss;
    for (int i = 0; i < R->n_layers; i++) {
        const cJSON *lj = cJSON_GetArrayItem(layers, i);
        layer *l = &R->l[i];
        l->n_in = (int)num(lj, "n_in");
        l->n_out = (int)num(lj, "n_out");
        snprintf(l->act, sizeof l->act, "%s", cJSON_GetObjectItem(lj, "act")->valuestring);
        char *colon = strchr(l->act, ':');   /* "leaky_relu:0.2": name and argument */
        l->arg = colon ? atof(colon + 1) : 0.01;
        if (colon)
            *colon = '\0';
        get(lj, "W", l->n_out, l->n_in, l->W);
        get(lj, "b", 1, l->n_out, l->b);
        if (cJSON_GetObjectItem(lj, "act_param")) {
            l->n_ap = cJSON_GetArraySize(cJSON_GetObjectItem(lj, "act_param"));
            get(lj, "act_param", 1, l->n_ap, l->ap);
        }
    }
    R->n_in = R->l[0].n_in;
    R->n_out = R->l[R->n_layers - 1].n_out;
    get(j, "X", R->rows, R->n_in, R->X);
    get(j, "T", R->rows, R->n_out, R->T);
    const cJSON *labels = cJSON_GetObjectItem(j, "labels");
    for (int r = 0; labels && r < R->rows; r++)  /* T is what the labels say */
        for (int c = 0; c < R->n_out; c++)
            ck_assert(R->T[r][c] == (R->n_out == 1 ? cJSON_GetArrayItem(labels, r)->valueint
                                                   : cJSON_GetArrayItem(labels, r)->valueint == c));
    reference(R);
    ck_assert_close(num(j, "loss"), R->L, 1e-5);

    static double m[MAXN][MAXN];
    for (int i = 0; i < R->n_layers; i++) {
        const cJSON *lj = cJSON_GetArrayItem(layers, i);
        layer *l = &R->l[i];
        int B = R->rows, no = l->n_out, ni = l->n_in;
        get(lj, "Z", B, no, m); expect("Z", i, m, l->Z, B, no);
        get(lj, "A", B, no, m); expect("A", i, m, l->A, B, no);
        get(lj, "dZ", B, no, m); expect("dZ", i, m, l->dZ, B, no);
        get(lj, "dW", no, ni, m); expect("dW", i, m, l->dW, no, ni);
        get(lj, "db", 1, no, m); expect("db", i, m, l->db, 1, no);
        if (i + 1 < R->n_layers) {
            get(lj, "dA", B, no, m); expect("dA", i, m, l->dA, B, no);
            get(lj, "fprime", B, no, m); expect("f'(Z)", i, m, l->D, B, no);
        }
        if (l->n_ap) {
            get(lj, "dact_param", 1, l->n_ap, m); expect("dact_param", i, m, l->dap, 1, l->n_ap);
        }
        /* The update, from the printed (float) values the optimizer really saw. */
        static double wb[MAXN][MAXN], g[MAXN][MAXN], want[MAXN][MAXN];
        double lr = num(j, "lr");
        get(lj, "W", no, ni, wb);
        get(lj, "dW", no, ni, g);
        for (int r = 0; r < no; r++)
            for (int c = 0; c < ni; c++)
                want[r][c] = step1(opt, lr, wb[r][c], g[r][c]);
        get(lj, "W_after", no, ni, m);
        expect("W_after", i, m, want, no, ni);
        get(lj, "b", 1, no, wb);
        get(lj, "db", 1, no, g);
        for (int c = 0; c < no; c++)
            want[0][c] = step1(opt, lr, wb[0][c], g[0][c]);
        get(lj, "b_after", 1, no, m);
        expect("b_after", i, m, want, 1, no);
    }
    /* The live gradient check: the analytic number is the printed dW, and it agrees with
     * the central difference and with the reference. */
    const cJSON *gc = cJSON_GetObjectItem(j, "gradcheck");
    int gl = (int)num(gc, "layer"), gr = (int)num(gc, "row"), gk = (int)num(gc, "col");
    ck_assert_close(num(gc, "analytic"), R->l[gl].dW[gr][gk], 1e-5);
    ck_assert_msg(num(gc, "rel_diff") < 1e-2, "finite difference off by %g", num(gc, "rel_diff"));
    ck_assert_msg(fabs(num(gc, "analytic")) > 1e-4, "the checked gradient is ~0: a vacuous check");

    /* The loss after the step, recomputed from the printed new weights. */
    for (int i = 0; i < R->n_layers; i++) {
        const cJSON *lj = cJSON_GetArrayItem(layers, i);
        get(lj, "W_after", R->l[i].n_out, R->l[i].n_in, R->l[i].W);
        get(lj, "b_after", 1, R->l[i].n_out, R->l[i].b);
        if (R->l[i].n_ap)
            get(lj, "act_param_after", 1, R->l[i].n_ap, R->l[i].ap);
    }
    reference(R);
    ck_assert_close(num(j, "loss_after"), R->L, 1e-5);
    free(R);
    cJSON_Delete(j);
}

START_TEST(explain_default_xor_step_matches_reference)
{
    check_explain("", "sgd", 1);
}
END_TEST

START_TEST(explain_two_hidden_relu_softmax_momentum)
{
    check_explain("--layers 4,3 --act relu --loss softmax_ce --opt momentum --seed 7", "momentum", 0);
}
END_TEST

START_TEST(explain_leaky_relu_mse_adam)
{
    check_explain("--layers 5:leaky_relu:0.2 --loss mse --opt adam --lr 0.01 --seed 3", "adam", 2);
}
END_TEST

START_TEST(explain_sigmoid_nesterov_and_elu_adamw)
{
    check_explain("--act sigmoid --opt nesterov --lr 0.5", "nesterov", 1);
    check_explain("--layers 3:elu,2:tanh --opt adamw --lr 0.05", "adamw", 1);
}
END_TEST

START_TEST(explain_rmsprop_and_adagrad)
{
    check_explain("--opt rmsprop --lr 0.01 --act relu --seed 2", "rmsprop", 1);
    check_explain("--opt adagrad --loss softmax_ce --seed 4", "adagrad", 0);
}
END_TEST

START_TEST(explain_prelu_learns_its_slopes)
{
    check_explain("--act prelu --layers 4 --seed 11", "sgd", 1);
}
END_TEST

START_TEST(explain_csv_data_three_classes)
{
    char path[] = "/tmp/tinymlp-test-docs-XXXXXX";
    int fd = mkstemp(path);
    ck_assert(fd >= 0);
    FILE *fp = fdopen(fd, "w");
    fprintf(fp, "a,b,c,label\n0.5,-1,2,0\n1,0.25,-0.5,1\n-2,1,0,2\n0,0,1,1\n3,-1,1,0\n");
    fclose(fp);
    char args[256];
    snprintf(args, sizeof args, "--data %s --rows 3 --layers 4:tanh --seed 5", path);
    check_explain(args, "sgd", 0);
    unlink(path);
}
END_TEST

/* Explaining step N after N-1 silent steps starts where step N-1 ended. */
START_TEST(explain_step_n_starts_where_step_n_minus_1_ended)
{
    const char *opts[] = { "--opt sgd", "--opt adam --act relu" };
    for (int o = 0; o < 2; o++)
        for (int n = 1; n <= 3; n++) {
            char a1[128], a2[128];
            snprintf(a1, sizeof a1, "%s --step %d", opts[o], n);
            snprintf(a2, sizeof a2, "%s --step %d", opts[o], n + 1);
            cJSON *j1 = explain(a1), *j2 = explain(a2);
            ck_assert_int_eq((int)num(j2, "step"), n + 1);
            for (int i = 0; i < 2; i++) {
                const cJSON *l1 = cJSON_GetArrayItem(cJSON_GetObjectItem(j1, "layers"), i);
                const cJSON *l2 = cJSON_GetArrayItem(cJSON_GetObjectItem(j2, "layers"), i);
                char *after = cJSON_PrintUnformatted(cJSON_GetObjectItem(l1, "W_after"));
                char *before = cJSON_PrintUnformatted(cJSON_GetObjectItem(l2, "W"));
                ck_assert_str_eq(after, before);
                free(after);
                free(before);
            }
            ck_assert_close(num(j1, "loss_after"), num(j2, "loss"), 1e-6);
            cJSON_Delete(j1);
            cJSON_Delete(j2);
        }
}
END_TEST

/* For every registered activation: the trace runs, A = f(Z) and dZ = dA ⊙ f'(Z) hold with
 * the library's own definition, dW = dZᵀ·X in double, and the live check agrees. */
START_TEST(explain_works_for_every_registered_activation)
{
    static double x[MAXN][MAXN], z[MAXN][MAXN], a[MAXN][MAXN], dz[MAXN][MAXN], dw[MAXN][MAXN];
    for (int k = 0; k < tmlp_act_count(); k++) {
        const tmlp_act *act = tmlp_act_at(k);
        char args[128];
        snprintf(args, sizeof args, "--act %s", act->name);
        cJSON *j = explain(args);
        const cJSON *l0 = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "layers"), 0);
        get(j, "X", 4, 2, x);
        get(l0, "Z", 4, 3, z);
        get(l0, "A", 4, 3, a);
        get(l0, "dZ", 4, 3, dz);
        get(l0, "dW", 3, 2, dw);
        float zf[12], af[12], param[3] = { act->param_init, act->param_init, act->param_init };
        for (int i = 0; i < 12; i++)
            zf[i] = (float)z[i / 3][i % 3];
        act->forward(4, 3, zf, af, act->arg, act->params ? param : NULL);
        for (int i = 0; i < 12; i++)
            ck_assert_msg(af[i] == (float)a[i / 3][i % 3], "%s: A != f(Z)", act->name);
        for (int r = 0; r < 3; r++)
            for (int c = 0; c < 2; c++) {
                double s = 0;
                for (int i = 0; i < 4; i++)
                    s += dz[i][r] * x[i][c];
                ck_assert_msg(fabs(s - dw[r][c]) < 1e-6, "%s: dW != dZᵀ·X", act->name);
            }
        const cJSON *gc = cJSON_GetObjectItem(j, "gradcheck");
        ck_assert_msg(num(gc, "rel_diff") < 1e-2, "%s: finite difference off by %g", act->name,
                      num(gc, "rel_diff"));
        ck_assert_msg(fabs(num(gc, "analytic")) > 1e-4, "%s: vacuous gradient check", act->name);
        cJSON_Delete(j);
    }
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("docs");
    TMLP_ADD(s, explain_default_xor_step_matches_reference);
    TMLP_ADD(s, explain_two_hidden_relu_softmax_momentum);
    TMLP_ADD(s, explain_leaky_relu_mse_adam);
    TMLP_ADD(s, explain_sigmoid_nesterov_and_elu_adamw);
    TMLP_ADD(s, explain_rmsprop_and_adagrad);
    TMLP_ADD(s, explain_prelu_learns_its_slopes);
    TMLP_ADD(s, explain_csv_data_three_classes);
    TMLP_ADD(s, explain_step_n_starts_where_step_n_minus_1_ended);
    TMLP_ADD(s, explain_works_for_every_registered_activation);
    return s;
}

TMLP_TEST_MAIN()
