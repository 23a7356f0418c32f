/* test_model_io.c: model files: save -> load round trips, metadata, the safetensors layout,
 * every kind of corrupt file, and atomic replacement. Each test works in its own mkdtemp
 * directory and removes it. */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cJSON.h>

#include "testutil.h"

/* ---- helpers ---- */

static void make_dir(char *dir, size_t size)
{
    snprintf(dir, size, "/tmp/tmlp_model_io_XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void remove_tree(const char *path)
{
    struct stat st;
    if (lstat(path, &st) != 0)
        return;
    if (S_ISDIR(st.st_mode)) {
        DIR *d = opendir(path);
        struct dirent *e;
        while (d && (e = readdir(d))) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                continue;
            char sub[512];
            snprintf(sub, sizeof sub, "%s/%s", path, e->d_name);
            remove_tree(sub);
        }
        if (d)
            closedir(d);
        rmdir(path);
    } else {
        unlink(path);
    }
}

/* Entries in dir other than . and .., and whether any is a leftover temporary file. */
static int count_entries(const char *dir, int *n_tmp)
{
    int n = 0;
    DIR *d = opendir(dir);
    struct dirent *e;
    *n_tmp = 0;
    ck_assert_ptr_nonnull(d);
    while ((e = readdir(d))) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        n++;
        *n_tmp += strstr(e->d_name, ".tmp.") != NULL;
    }
    closedir(d);
    return n;
}

static unsigned char *slurp(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *buf = malloc((size_t)n + 1);
    ck_assert_ptr_nonnull(buf);
    ck_assert_uint_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *size = (size_t)n;
    return buf;
}

static void spit(const char *path, const void *buf, size_t size)
{
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(buf, 1, size, f), size);
    ck_assert_int_eq(fclose(f), 0);
}

/* A net with every parameter (biases too) drawn at random, so a round trip proves something. */
static tmlp_net *make_net(int n_in, int loss, const char *layers, uint64_t seed)
{
    tmlp_net_spec spec;
    tmlp_err err = { 0 };
    tmlp_net_spec_init(&spec, n_in, loss);
    ck_assert_msg(tmlp_net_spec_parse(&spec, layers, &err) == TMLP_OK, "%s", err.msg);
    tmlp_net *net = tmlp_net_new(&spec, 8, &err);
    ck_assert_msg(net != NULL, "%s", err.msg);
    tmlp_rng rng;
    tmlp_rng_seed(&rng, seed, 7);
    size_t n;
    float *p = tmlp_net_params(net, &n);
    for (size_t i = 0; i < n; i++)
        p[i] = 0.5f * tmlp_rng_normal(&rng);
    return net;
}

/* The safetensors header length: the file's first 8 bytes, little-endian. */
static uint64_t header_len(const unsigned char *buf)
{
    uint64_t n = 0;
    for (int i = 7; i >= 0; i--)
        n = n << 8 | buf[i];
    return n;
}

static void save(const char *path, const tmlp_net *net, const tmlp_model_meta *meta)
{
    tmlp_err err = { 0 };
    ck_assert_msg(tmlp_model_write(path, net, meta, &err) == TMLP_OK, "%s", err.msg);
}

static tmlp_net *load(const char *path, tmlp_model_meta *meta)
{
    tmlp_err err = { 0 };
    tmlp_net *net = tmlp_model_read(path, 5, meta, &err);
    ck_assert_msg(net != NULL, "%s: %s", path, err.msg);
    return net;
}

/* Same architecture, bit-identical parameters, bit-identical predictions. */
static void assert_same_net(tmlp_net *a, tmlp_net *b)
{
    const tmlp_net_spec *sa = tmlp_net_get_spec(a), *sb = tmlp_net_get_spec(b);
    ck_assert_int_eq(sa->n_in, sb->n_in);
    ck_assert_int_eq(sa->loss, sb->loss);
    ck_assert_int_eq(sa->n_layers, sb->n_layers);
    for (int i = 0; i < sa->n_layers; i++) {
        tmlp_layer_view va, vb;
        ck_assert_int_eq(tmlp_net_layer(a, i, &va, NULL), TMLP_OK);
        ck_assert_int_eq(tmlp_net_layer(b, i, &vb, NULL), TMLP_OK);
        ck_assert_int_eq(va.n_out, vb.n_out);
        ck_assert_ptr_eq(va.act, vb.act);
        ck_assert_msg(memcmp(&va.act_arg, &vb.act_arg, sizeof(float)) == 0 ||
                      !(va.act->flags & TMLP_ACT_HAS_ARG), "layer %d arg %.9g vs %.9g", i,
                      (double)va.act_arg, (double)vb.act_arg);
        ck_assert_int_eq(va.n_act_params, vb.n_act_params);
    }
    size_t na, nb;
    float *pa = tmlp_net_params(a, &na), *pb = tmlp_net_params(b, &nb);
    ck_assert_uint_eq(na, nb);
    ck_assert_int_eq(memcmp(pa, pb, na * sizeof(float)), 0);

    enum { N = 13 };  /* more rows than either max batch: predict works in chunks */
    int n_in = tmlp_net_n_in(a), n_out = tmlp_net_n_out(a);
    float *x = malloc(sizeof(float) * N * (size_t)n_in);
    float *ya = malloc(sizeof(float) * N * (size_t)n_out), *yb = malloc(sizeof(float) * N * (size_t)n_out);
    tmlp_rng rng;
    tmlp_rng_seed(&rng, 99, 1);
    for (int i = 0; i < N * n_in; i++)
        x[i] = 2.0f * tmlp_rng_normal(&rng);
    tmlp_err err = { 0 };
    ck_assert_msg(tmlp_net_predict(a, x, N, ya, &err) == TMLP_OK, "%s", err.msg);
    ck_assert_msg(tmlp_net_predict(b, x, N, yb, &err) == TMLP_OK, "%s", err.msg);
    ck_assert_int_eq(memcmp(ya, yb, sizeof(float) * N * (size_t)n_out), 0);
    free(x);
    free(ya);
    free(yb);
}

static void round_trip(const char *dir, int n_in, int loss, const char *layers)
{
    char path[300];
    snprintf(path, sizeof path, "%s/m.safetensors", dir);
    tmlp_net *a = make_net(n_in, loss, layers, 42);
    save(path, a, NULL);
    tmlp_model_meta meta;
    tmlp_net *b = load(path, &meta);
    ck_assert_int_eq(meta.n, 0);
    assert_same_net(a, b);
    tmlp_model_meta_free(&meta);
    tmlp_net_free(a);
    tmlp_net_free(b);
}

/* Two user activations with learnable parameters: per unit and shared. */
static void scale_forward(int rows, int cols, const float *x, float *y, float arg, const float *p)
{
    (void)arg;
    for (int r = 0; r < rows; r++)
        for (int c = 0; c < cols; c++)
            y[r * cols + c] = p[c] * x[r * cols + c];          /* f(x) = p_j x */
}
static void scale_backward(int rows, int cols, const float *x, const float *y, const float *dy,
                           float *dx, float arg, const float *p, float *dp)
{
    (void)y; (void)arg;
    for (int c = 0; dp && c < cols; c++)
        dp[c] = 0.0f;
    for (int r = 0; r < rows; r++)
        for (int c = 0; c < cols; c++) {
            dx[r * cols + c] = p[c] * dy[r * cols + c];
            if (dp)
                dp[c] += x[r * cols + c] * dy[r * cols + c];
        }
}
static void shift_forward(int rows, int cols, const float *x, float *y, float arg, const float *p)
{
    (void)arg;
    for (int i = 0; i < rows * cols; i++)
        y[i] = x[i] + p[0];                                    /* f(x) = x + p */
}
static void shift_backward(int rows, int cols, const float *x, const float *y, const float *dy,
                           float *dx, float arg, const float *p, float *dp)
{
    (void)x; (void)y; (void)arg; (void)p;
    if (dp)
        dp[0] = 0.0f;
    for (int i = 0; i < rows * cols; i++) {
        dx[i] = dy[i];
        if (dp)
            dp[0] += dy[i];
    }
}
static const tmlp_act test_scale = {
    .name = "test_scale", .formula = "p_j x", .range = "(-inf, inf)",
    .params = TMLP_ACT_PARAM_PER_UNIT, .param_init = 1.0f,
    .forward = scale_forward, .backward = scale_backward };
static const tmlp_act test_shift = {
    .name = "test_shift", .formula = "x + p", .range = "(-inf, inf)",
    .params = TMLP_ACT_PARAM_SHARED, .param_init = 0.0f,
    .forward = shift_forward, .backward = shift_backward };

static void register_test_acts(void)
{
    tmlp_err err = { 0 };
    if (!tmlp_act_find("test_scale"))
        ck_assert_msg(tmlp_act_register(&test_scale, &err) == TMLP_OK, "%s", err.msg);
    if (!tmlp_act_find("test_shift"))
        ck_assert_msg(tmlp_act_register(&test_shift, &err) == TMLP_OK, "%s", err.msg);
}

/* ---- plugins: the activation's origin is recorded, and named when it is missing ---- */

static const tmlp_act plug_scale = {
    .name = "plug_scale", .formula = "p_j x", .range = "(-inf, inf)",
    .params = TMLP_ACT_PARAM_PER_UNIT, .param_init = 1.0f,
    .forward = scale_forward, .backward = scale_backward };

START_TEST(model_names_the_plugin_of_a_missing_activation)
{
    char dir[64], path[96], edited[96];
    tmlp_err err = { 0 };
    make_dir(dir, sizeof dir);
    register_test_acts();
    ck_assert_msg(tmlp_act_register_from(&plug_scale, "my_scale.so", &err) == TMLP_OK, "%s",
                  err.msg);
    tmlp_net *net = make_net(3, TMLP_LOSS_SOFTMAX_CE, "4:plug_scale,5:plug_scale,3:test_shift,2", 5);
    snprintf(path, sizeof path, "%s/m.safetensors", dir);
    save(path, net, NULL);
    size_t n;
    unsigned char *buf = slurp(path, &n);
    buf[n] = '\0';
    /* once per activation, plain registrations (test_shift) not at all */
    ck_assert_ptr_nonnull(strstr((char *)buf + 8, "\"plugins\":\"plug_scale=my_scale.so\""));
    tmlp_net *back = load(path, NULL); /* with the plugin "loaded": reads as always */
    assert_same_net(net, back);
    tmlp_net_free(back);
    /* Not loaded: rename the activation (same length, so every offset stays right). */
    for (char *at = (char *)buf + 8; (at = strstr(at, "plug_scale")) != NULL; at += 10)
        memcpy(at, "plug_gone_", 10);
    snprintf(edited, sizeof edited, "%s/gone.safetensors", dir);
    spit(edited, buf, n);
    ck_assert_ptr_null(tmlp_model_read(edited, 5, NULL, &err));
    ck_assert_int_eq(err.code, TMLP_ENOTFOUND);
    ck_assert_msg(strstr(err.msg, "activation 'plug_gone_' comes from the plugin 'my_scale.so', "
                         "which is not loaded") != NULL, "%s", err.msg);
    /* A "plugins" value that is not as written falls back to the plain message. */
    char *v = strstr((char *)buf + 8, "plug_gone_=my_scale.so");
    ck_assert_ptr_nonnull(v);
    v[10] = ';';
    spit(edited, buf, n);
    ck_assert_ptr_null(tmlp_model_read(edited, 5, NULL, &err));
    ck_assert_int_eq(err.code, TMLP_ENOTFOUND);
    ck_assert_msg(strstr(err.msg, "unknown activation 'plug_gone_'") && !strstr(err.msg, "plugin '"),
                  "%s", err.msg);
    /* "plugins" is the library's key */
    tmlp_model_meta meta;
    tmlp_model_meta_init(&meta);
    ck_assert_int_eq(tmlp_model_meta_set(&meta, "plugins", "x=y.so", &err), TMLP_EINVAL);
    tmlp_model_meta_free(&meta);
    free(buf);
    tmlp_net_free(net);
    remove_tree(dir);
}
END_TEST

/* ---- round trips ---- */

START_TEST(model_round_trip_is_bit_identical)
{
    char dir[64];
    make_dir(dir, sizeof dir);
    round_trip(dir, 4, TMLP_LOSS_SOFTMAX_CE, "8:relu,6:leaky_relu:0.2,5:tanh,3");
    round_trip(dir, 3, TMLP_LOSS_SIGMOID_BCE, "7:sigmoid,1");
    round_trip(dir, 2, TMLP_LOSS_MSE, "5:leaky_relu,4:leaky_relu:0.1234567,2:sigmoid");
    round_trip(dir, 2, TMLP_LOSS_MSE, "3");
    round_trip(dir, 2, TMLP_LOSS_SOFTMAX_CE, "4:identity,3:relu,2");
    remove_tree(dir);
}
END_TEST

START_TEST(model_round_trip_keeps_learnable_act_params)
{
    char dir[64];
    make_dir(dir, sizeof dir);
    register_test_acts();
    round_trip(dir, 3, TMLP_LOSS_SOFTMAX_CE, "6:test_scale,4:test_shift,5:relu,2");

    /* The parameters are stored under layers.i.act_param, shaped (n_act_params). */
    char path[300];
    snprintf(path, sizeof path, "%s/m.safetensors", dir);
    size_t size;
    unsigned char *buf = slurp(path, &size);
    uint64_t n = header_len(buf);
    cJSON *root = cJSON_ParseWithLength((const char *)buf + 8, (size_t)n);
    ck_assert_ptr_nonnull(root);
    cJSON *ap = cJSON_GetObjectItem(cJSON_GetObjectItem(root, "layers.0.act_param"), "shape");
    ck_assert_int_eq(cJSON_GetArraySize(ap), 1);
    ck_assert_int_eq(cJSON_GetArrayItem(ap, 0)->valueint, 6);
    ap = cJSON_GetObjectItem(cJSON_GetObjectItem(root, "layers.1.act_param"), "shape");
    ck_assert_int_eq(cJSON_GetArraySize(ap), 1);
    ck_assert_int_eq(cJSON_GetArrayItem(ap, 0)->valueint, 1);
    ck_assert_ptr_null(cJSON_GetObjectItem(root, "layers.2.act_param"));
    cJSON_Delete(root);
    free(buf);

    if (tmlp_act_find("prelu"))  /* the full activation family may not be there yet */
        round_trip(dir, 4, TMLP_LOSS_SOFTMAX_CE, "6:prelu,5:leaky_relu:0.2,3");
    remove_tree(dir);
}
END_TEST

/* Files written before bare widths meant ReLU stored a linear hidden layer as "8,1"; such a
 * file still reads as linear, and a new one spells it out as "8:identity,1". */
START_TEST(model_read_keeps_old_bare_widths_linear)
{
    char dir[64], path[300];
    make_dir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/m.safetensors", dir);
    tmlp_net *net = make_net(3, TMLP_LOSS_SIGMOID_BCE, "8:identity,1", 3);
    save(path, net, NULL);
    size_t size;
    unsigned char *buf = slurp(path, &size);
    const char *now = "\"8:identity,1\"";
    unsigned char *at = NULL;
    for (size_t i = 0; !at && i + strlen(now) <= size; i++)
        if (!memcmp(buf + i, now, strlen(now)))
            at = buf + i;
    ck_assert_ptr_nonnull(at);
    memcpy(at, "\"8,1\"         ", strlen(now)); /* JSON spaces keep every offset */
    spit(path, buf, size);
    free(buf);
    tmlp_net *old = load(path, NULL);
    const tmlp_net_spec *sp = tmlp_net_get_spec(old);
    ck_assert_str_eq(sp->layer[0].act->name, "identity");
    assert_same_net(net, old);
    tmlp_net_free(old);
    tmlp_net_free(net);
    remove_tree(dir);
}
END_TEST

START_TEST(model_meta_round_trip)
{
    char dir[64], path[300];
    make_dir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/m.safetensors", dir);
    tmlp_err err = { 0 };
    tmlp_model_meta meta;
    tmlp_model_meta_init(&meta);
    const char *config = "{\"lr\": 0.1, \"optim\": \"adam\",\n \"note\": \"caf\xc3\xa9 \\\\ \\\"q\\\"\"}";
    ck_assert_int_eq(tmlp_model_meta_set(&meta, "config", config, &err), TMLP_OK);
    ck_assert_int_eq(tmlp_model_meta_set(&meta, "classes", "zero,one,two", &err), TMLP_OK);
    ck_assert_int_eq(tmlp_model_meta_set(&meta, "test_accuracy", "0.5", &err), TMLP_OK);
    ck_assert_int_eq(tmlp_model_meta_set(&meta, "data", "xor", &err), TMLP_OK);
    ck_assert_int_eq(tmlp_model_meta_set(&meta, "test_accuracy", "0.9731", &err), TMLP_OK);
    ck_assert_int_eq(tmlp_model_meta_set(&meta, "gone", "x", &err), TMLP_OK);
    ck_assert_int_eq(tmlp_model_meta_set(&meta, "gone", NULL, &err), TMLP_OK);
    ck_assert_int_eq(tmlp_model_meta_set(&meta, "config_is_null", NULL, &err), TMLP_OK);
    ck_assert_int_eq(meta.n, 4);
    ck_assert_str_eq(tmlp_model_meta_get(&meta, "test_accuracy"), "0.9731");
    ck_assert_ptr_null(tmlp_model_meta_get(&meta, "gone"));

    ck_assert_int_eq(tmlp_model_meta_set(&meta, "layers", "1", &err), TMLP_EINVAL);
    ck_assert_ptr_nonnull(strstr(err.msg, "reserved"));
    ck_assert_int_eq(tmlp_model_meta_set(&meta, "", "1", &err), TMLP_EINVAL);
    ck_assert_int_eq(tmlp_model_meta_set(&meta, "bad", "\xff\xfe", &err), TMLP_EINVAL);
    ck_assert_int_eq(tmlp_model_meta_set(&meta, "bad", "\xed\xa0\x80", &err), TMLP_EINVAL);
    ck_assert_int_eq(meta.n, 4);

    tmlp_net *a = make_net(4, TMLP_LOSS_SOFTMAX_CE, "5:relu,3", 1);
    save(path, a, &meta);
    tmlp_model_meta got;
    tmlp_net *b = load(path, &got);
    assert_same_net(a, b);
    ck_assert_int_eq(got.n, meta.n);
    for (int i = 0; i < meta.n; i++) {  /* same keys, same values, same order */
        ck_assert_str_eq(got.kv[i].key, meta.kv[i].key);
        ck_assert_str_eq(got.kv[i].value, meta.kv[i].value);
    }
    ck_assert_str_eq(tmlp_model_meta_get(&got, "config"), config);
    ck_assert_ptr_null(tmlp_model_meta_get(&got, "format"));

    /* What comes out goes back in: saving a loaded model with its metadata works. */
    save(path, b, &got);
    tmlp_model_meta_free(&got);
    tmlp_model_meta_free(&got);  /* freeing twice is harmless: free leaves it empty */
    tmlp_model_meta_free(NULL);

    /* A hand-filled list with a reserved key is refused at write time too. */
    tmlp_model_kv kv = { .key = "loss", .value = "mse" };
    tmlp_model_meta bad = { .n = 1, .cap = 1, .kv = &kv };
    ck_assert_int_eq(tmlp_model_write(path, a, &bad, &err), TMLP_EINVAL);

    tmlp_model_meta_free(&meta);
    tmlp_net_free(a);
    tmlp_net_free(b);
    remove_tree(dir);
}
END_TEST

/* The bytes are what docs/file-format.md says. */
START_TEST(model_file_is_safetensors)
{
    char dir[64], path[300];
    make_dir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/m.safetensors", dir);
    tmlp_net *net = make_net(4, TMLP_LOSS_SOFTMAX_CE, "8:relu,6:leaky_relu:0.2,5:tanh,3", 3);
    save(path, net, NULL);
    size_t size;
    unsigned char *buf = slurp(path, &size);
    uint64_t n = header_len(buf);
    ck_assert_uint_eq(n % 8, 0);
    ck_assert_uint_eq(size, 8 + n + 4 * (8 * 4 + 8 + 6 * 8 + 6 + 5 * 6 + 5 + 3 * 5 + 3));
    const char *end;
    cJSON *root = cJSON_ParseWithLengthOpts((const char *)buf + 8, (size_t)n, &end, 0);
    ck_assert_ptr_nonnull(root);
    for (const char *p = end; p < (const char *)buf + 8 + n; p++)
        ck_assert_int_eq(*p, ' ');
    cJSON *md = cJSON_GetObjectItem(root, "__metadata__");
    ck_assert_str_eq(cJSON_GetObjectItem(md, "format")->valuestring, "tinymlp");
    ck_assert_str_eq(cJSON_GetObjectItem(md, "format_version")->valuestring, "1");
    ck_assert_str_eq(cJSON_GetObjectItem(md, "n_in")->valuestring, "4");
    ck_assert_str_eq(cJSON_GetObjectItem(md, "loss")->valuestring, "softmax_ce");
    ck_assert_str_eq(cJSON_GetObjectItem(md, "layers")->valuestring,
                     "8:relu,6:leaky_relu:0.2,5:tanh,3");
    ck_assert_int_eq(cJSON_GetArraySize(root), 1 + 8);

    /* layers.1.weight is (6, 8) row-major at [160, 352): W[j][k] is the weight from input k
     * to unit j, as in torch.nn.Linear. */
    cJSON *w = cJSON_GetObjectItem(root, "layers.1.weight");
    ck_assert_str_eq(cJSON_GetObjectItem(w, "dtype")->valuestring, "F32");
    cJSON *shape = cJSON_GetObjectItem(w, "shape"), *offs = cJSON_GetObjectItem(w, "data_offsets");
    ck_assert_int_eq(cJSON_GetArrayItem(shape, 0)->valueint, 6);
    ck_assert_int_eq(cJSON_GetArrayItem(shape, 1)->valueint, 8);
    ck_assert_int_eq(cJSON_GetArrayItem(offs, 0)->valueint, 160);
    ck_assert_int_eq(cJSON_GetArrayItem(offs, 1)->valueint, 352);
    tmlp_layer_view v;
    ck_assert_int_eq(tmlp_net_layer(net, 1, &v, NULL), TMLP_OK);
    for (int i = 0; i < 6 * 8; i++) {
        const unsigned char *q = buf + 8 + n + 160 + 4 * i;
        uint32_t u = (uint32_t)q[0] | (uint32_t)q[1] << 8 | (uint32_t)q[2] << 16 | (uint32_t)q[3] << 24;
        float f;
        memcpy(&f, &u, 4);
        ck_assert_int_eq(memcmp(&f, &v.W[i], 4), 0);
    }
    cJSON_Delete(root);
    free(buf);
    tmlp_net_free(net);
    remove_tree(dir);
}
END_TEST

/* Tensors may come in any order, in the header and in the data (safetensors' own writer sorts
 * them by name): rewrite the file with both reversed and it loads the same net. */
START_TEST(model_read_accepts_any_tensor_order)
{
    char dir[64], path[300];
    make_dir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/m.safetensors", dir);
    tmlp_net *a = make_net(3, TMLP_LOSS_SOFTMAX_CE, "4:relu,5:leaky_relu:0.3,2", 5);
    save(path, a, NULL);
    size_t size;
    unsigned char *buf = slurp(path, &size), *data = malloc(size);
    uint64_t n = header_len(buf);
    cJSON *root = cJSON_ParseWithLength((const char *)buf + 8, (size_t)n);
    cJSON *out = cJSON_CreateObject();
    cJSON_AddItemReferenceToObject(out, "__metadata__", cJSON_GetObjectItem(root, "__metadata__"));
    size_t pos = 0;
    for (cJSON *t = cJSON_GetArrayItem(root, cJSON_GetArraySize(root) - 1); t && t->string &&
         strcmp(t->string, "__metadata__") != 0; t = t->prev) {
        cJSON *offs = cJSON_GetObjectItem(t, "data_offsets");
        int b = cJSON_GetArrayItem(offs, 0)->valueint, e = cJSON_GetArrayItem(offs, 1)->valueint;
        memcpy(data + pos, buf + 8 + n + b, (size_t)(e - b));
        cJSON *o = cJSON_AddObjectToObject(out, t->string);
        cJSON_AddStringToObject(o, "dtype", "F32");
        cJSON_AddItemReferenceToObject(o, "shape", cJSON_GetObjectItem(t, "shape"));
        cJSON *no = cJSON_AddArrayToObject(o, "data_offsets");
        cJSON_AddItemToArray(no, cJSON_CreateNumber((double)pos));
        cJSON_AddItemToArray(no, cJSON_CreateNumber((double)(pos + (size_t)(e - b))));
        pos += (size_t)(e - b);
    }
    ck_assert_uint_eq(pos, size - 8 - n);
    char *json = cJSON_PrintUnformatted(out);
    size_t len = strlen(json);  /* no padding: other writers need not align */
    FILE *f = fopen(path, "wb");
    unsigned char n8[8];
    for (int i = 0; i < 8; i++)
        n8[i] = (unsigned char)((uint64_t)len >> (8 * i));
    fwrite(n8, 1, 8, f);
    fwrite(json, 1, len, f);
    fwrite(data, 1, pos, f);
    fclose(f);
    tmlp_net *b = load(path, NULL);
    assert_same_net(a, b);
    cJSON_free(json);
    cJSON_Delete(out);
    cJSON_Delete(root);
    free(buf);
    free(data);
    tmlp_net_free(a);
    tmlp_net_free(b);
    remove_tree(dir);
}
END_TEST

/* ---- corrupt files ---- */

/* The reference model every corruption starts from: 4 -> 8 relu -> 6 leaky_relu -> 5 tanh -> 3.
 * Data section (bytes): layers.0.weight [0,128) bias [128,160) layers.1.weight [160,352)
 * bias [352,376) layers.2.weight [376,496) bias [496,516) layers.3.weight [516,576)
 * bias [576,588). */
#define REF_LAYERS "8:relu,6:leaky_relu:0.2,5:tanh,3"

static cJSON *entry(cJSON *root, const char *name)
{
    cJSON *x = cJSON_GetObjectItem(root, name);
    ck_assert_ptr_nonnull(x);
    return x;
}

static void set_offsets(cJSON *root, const char *name, double b, double e)
{
    cJSON *offs = cJSON_CreateArray();
    cJSON_AddItemToArray(offs, cJSON_CreateNumber(b));
    cJSON_AddItemToArray(offs, cJSON_CreateNumber(e));
    cJSON_ReplaceItemInObject(entry(root, name), "data_offsets", offs);
}

static void set_meta(cJSON *root, const char *key, cJSON *value)
{
    cJSON *md = entry(root, "__metadata__");
    if (cJSON_GetObjectItem(md, key))
        cJSON_ReplaceItemInObject(md, key, value);
    else
        cJSON_AddItemToObject(md, key, value);
}

static void m_dtype(cJSON *r) { cJSON_ReplaceItemInObject(entry(r, "layers.2.bias"), "dtype", cJSON_CreateString("F64")); }
static void m_shape(cJSON *r)
{
    cJSON *s = cJSON_CreateArray();
    cJSON_AddItemToArray(s, cJSON_CreateNumber(6));
    cJSON_AddItemToArray(s, cJSON_CreateNumber(5));
    cJSON_ReplaceItemInObject(entry(r, "layers.1.weight"), "shape", s);
}
static void m_rank(cJSON *r)
{
    cJSON *s = cJSON_CreateArray();
    cJSON_AddItemToArray(s, cJSON_CreateNumber(8));
    cJSON_AddItemToArray(s, cJSON_CreateNumber(1));
    cJSON_ReplaceItemInObject(entry(r, "layers.0.bias"), "shape", s);
}
static void m_negative_shape(cJSON *r)
{
    cJSON *s = cJSON_CreateArray();
    cJSON_AddItemToArray(s, cJSON_CreateNumber(-8));
    cJSON_ReplaceItemInObject(entry(r, "layers.0.bias"), "shape", s);
}
static void m_out_of_range(cJSON *r) { set_offsets(r, "layers.3.bias", 1000576, 1000588); }
static void m_huge_offset(cJSON *r) { set_offsets(r, "layers.3.bias", 1e300, 1e300); }
static void m_reversed(cJSON *r) { set_offsets(r, "layers.3.bias", 588, 576); }
static void m_overlap(cJSON *r) { set_offsets(r, "layers.0.bias", 124, 156); }
static void m_gap(cJSON *r) { set_offsets(r, "layers.0.bias", 132, 164); }
static void m_span(cJSON *r) { set_offsets(r, "layers.0.bias", 128, 164); }
static void m_version(cJSON *r) { set_meta(r, "format_version", cJSON_CreateString("2")); }
static void m_format(cJSON *r) { set_meta(r, "format", cJSON_CreateString("kann")); }
static void m_no_meta(cJSON *r) { cJSON_DeleteItemFromObject(r, "__metadata__"); }
static void m_meta_number(cJSON *r) { set_meta(r, "n_in", cJSON_CreateNumber(4)); }
static void m_n_in(cJSON *r) { set_meta(r, "n_in", cJSON_CreateString("4x")); }
static void m_act(cJSON *r) { set_meta(r, "layers", cJSON_CreateString("8:relu,6:no_such_act:0.2,5:tanh,3")); }
static void m_bad_layers(cJSON *r) { set_meta(r, "layers", cJSON_CreateString("8:relu,,3")); }
static void m_bad_arch(cJSON *r) { set_meta(r, "layers", cJSON_CreateString("8:relu,6:leaky_relu:0.2,5:tanh,3:relu")); }
static void m_loss(cJSON *r) { set_meta(r, "loss", cJSON_CreateString("hinge")); }
static void m_missing(cJSON *r) { cJSON_DeleteItemFromObject(r, "layers.2.bias"); }
static void m_unknown(cJSON *r) { cJSON_AddItemToObject(r, "layers.9.weight", cJSON_Duplicate(entry(r, "layers.0.bias"), 1)); }
static void m_duplicate(cJSON *r) { cJSON_AddItemToObject(r, "layers.0.bias", cJSON_Duplicate(entry(r, "layers.0.bias"), 1)); }
static void m_extra_field(cJSON *r) { cJSON_AddStringToObject(entry(r, "layers.0.bias"), "layout", "col"); }
static void m_meta_array(cJSON *r) { cJSON_ReplaceItemInObject(r, "__metadata__", cJSON_CreateArray()); }

/* Raw edits of the file's bytes (buf has room for 16 more). */
static size_t r_empty(unsigned char *b, size_t n) { (void)b; (void)n; return 0; }
static size_t r_seven(unsigned char *b, size_t n) { (void)b; (void)n; return 7; }
static size_t r_long_header(unsigned char *b, size_t n)
{
    for (int i = 0; i < 8; i++)
        b[i] = (unsigned char)((uint64_t)(n + 100) >> (8 * i));
    return n;
}
static size_t r_huge_header(unsigned char *b, size_t n) { memset(b, 0xff, 8); return n; }
static size_t r_bad_json(unsigned char *b, size_t n) { b[8 + 1] = '#'; return n; }
static size_t r_not_object(unsigned char *b, size_t n) { b[8] = '['; return n; }
static size_t r_truncated(unsigned char *b, size_t n) { (void)b; return n - 4; }
static size_t r_trailing(unsigned char *b, size_t n) { memset(b + n, 0, 4); return n + 4; }
static size_t r_nan(unsigned char *b, size_t n)
{
    b[n - 4] = 0x00; b[n - 3] = 0x00; b[n - 2] = 0xc0; b[n - 1] = 0x7f;
    return n;
}
static size_t r_garbage_after_json(unsigned char *b, size_t n)
{
    uint64_t h = 0;
    for (int i = 7; i >= 0; i--)
        h = h << 8 | b[i];
    b[8 + h - 1] = 'x';  /* the last byte of the header: padding, or the closing brace */
    return n;
}

typedef struct corrupt_case {
    const char *name;
    void (*mutate)(cJSON *root);                   /* edit the header as JSON, or */
    size_t (*raw)(unsigned char *buf, size_t n);   /* edit the bytes */
    int code;
    const char *want;                              /* in the message */
} corrupt_case;

static const corrupt_case corrupt[] = {
    { "empty file", NULL, r_empty, TMLP_EFORMAT, "empty file" },
    { "7 bytes", NULL, r_seven, TMLP_EFORMAT, "holds 7 bytes" },
    { "header longer than file", NULL, r_long_header, TMLP_EFORMAT, "header says" },
    { "header length 2^64-1", NULL, r_huge_header, TMLP_EFORMAT, "header says 18446744073709551615" },
    { "invalid JSON", NULL, r_bad_json, TMLP_EFORMAT, "not valid JSON" },
    { "JSON array", NULL, r_not_object, TMLP_EFORMAT, "JSON" },
    { "garbage after JSON", NULL, r_garbage_after_json, TMLP_EFORMAT, "JSON" },
    { "truncated data", NULL, r_truncated, TMLP_EFORMAT, "layers.3.bias: data_offsets [576,588] run past the 584" },
    { "trailing bytes", NULL, r_trailing, TMLP_EFORMAT, "4 trailing bytes" },
    { "NaN weight", NULL, r_nan, TMLP_EFORMAT, "layers.3.bias: element 2 is nan" },
    { "wrong dtype", m_dtype, NULL, TMLP_EFORMAT, "tensor layers.2.bias: dtype F64, expected F32" },
    { "wrong shape", m_shape, NULL, TMLP_EFORMAT, "tensor layers.1.weight: shape [6,5], expected [6,8]" },
    { "wrong rank", m_rank, NULL, TMLP_EFORMAT, "layers.0.bias: shape [8,1], expected [8]" },
    { "negative shape", m_negative_shape, NULL, TMLP_EFORMAT, "non-negative integers" },
    { "offsets out of range", m_out_of_range, NULL, TMLP_EFORMAT, "[1000576,1000588] run past" },
    { "offsets beyond 2^53", m_huge_offset, NULL, TMLP_EFORMAT, "data_offsets is not" },
    { "offsets reversed", m_reversed, NULL, TMLP_EFORMAT, "begin <= end" },
    { "overlapping offsets", m_overlap, NULL, TMLP_EFORMAT, "layers.0.bias (data_offsets [124,156]) overlaps tensor layers.0.weight" },
    { "gap between tensors", m_gap, NULL, TMLP_EFORMAT, "gap of 4 bytes at data offset 128" },
    { "offsets disagree with shape", m_span, NULL, TMLP_EFORMAT, "span 36 bytes, its shape needs 32" },
    { "unknown format version", m_version, NULL, TMLP_EFORMAT, "format_version \"2\"" },
    { "another format", m_format, NULL, TMLP_EFORMAT, "\"kann\", not \"tinymlp\"" },
    { "no metadata", m_no_meta, NULL, TMLP_EFORMAT, "no __metadata__" },
    { "metadata value not a string", m_meta_number, NULL, TMLP_EFORMAT, "'n_in' is not a string" },
    { "bad n_in", m_n_in, NULL, TMLP_EFORMAT, "n_in \"4x\"" },
    { "unknown activation", m_act, NULL, TMLP_ENOTFOUND, "no_such_act" },
    { "bad layer list", m_bad_layers, NULL, TMLP_EFORMAT, "metadata layers" },
    { "activation on a softmax output", m_bad_arch, NULL, TMLP_EFORMAT, "output layer" },
    { "unknown loss", m_loss, NULL, TMLP_ENOTFOUND, "hinge" },
    { "missing tensor", m_missing, NULL, TMLP_EFORMAT, "tensor layers.2.bias is missing" },
    { "unknown tensor", m_unknown, NULL, TMLP_EFORMAT, "unknown tensor 'layers.9.weight'" },
    { "repeated tensor", m_duplicate, NULL, TMLP_EFORMAT, "repeated tensor 'layers.0.bias'" },
    { "unknown tensor field", m_extra_field, NULL, TMLP_EFORMAT, "unknown field 'layout'" },
    { "metadata not an object", m_meta_array, NULL, TMLP_EFORMAT, "__metadata__ is not an object" },
};
#define N_CORRUPT ((int)(sizeof corrupt / sizeof corrupt[0]))

/* Writes the reference model to path, then applies c. */
static void write_corrupt(const char *path, const corrupt_case *c)
{
    tmlp_net *net = make_net(4, TMLP_LOSS_SOFTMAX_CE, REF_LAYERS, 11);
    save(path, net, NULL);
    tmlp_net_free(net);
    size_t size;
    unsigned char *buf = slurp(path, &size);
    buf = realloc(buf, size + 16);
    if (c->raw) {
        size = c->raw(buf, size);
        spit(path, buf, size);
        free(buf);
        return;
    }
    uint64_t n = header_len(buf);
    cJSON *root = cJSON_ParseWithLength((const char *)buf + 8, (size_t)n);
    ck_assert_ptr_nonnull(root);
    c->mutate(root);
    char *json = cJSON_PrintUnformatted(root);
    size_t len = strlen(json);
    FILE *f = fopen(path, "wb");
    unsigned char n8[8];
    for (int i = 0; i < 8; i++)
        n8[i] = (unsigned char)((uint64_t)len >> (8 * i));
    fwrite(n8, 1, 8, f);
    fwrite(json, 1, len, f);
    fwrite(buf + 8 + n, 1, size - 8 - n, f);
    ck_assert_int_eq(fclose(f), 0);
    cJSON_free(json);
    cJSON_Delete(root);
    free(buf);
}

/* Issue 15: a negative running variance makes every prediction NaN; it is refused at load,
 * naming the tensor and the element. */
START_TEST(model_read_rejects_negative_bn_variance)
{
    char dir[64], path[96];
    make_dir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/m.safetensors", dir);
    tmlp_net *net = make_net(4, TMLP_LOSS_SOFTMAX_CE, "6:relu:bn,3", 5);
    save(path, net, NULL);
    tmlp_net_free(net);
    size_t size;
    unsigned char *buf = slurp(path, &size);
    uint64_t n = header_len(buf);
    cJSON *root = cJSON_ParseWithLength((const char *)buf + 8, (size_t)n);
    cJSON *var = cJSON_GetObjectItem(root, "layers.0.bn_running_var");
    ck_assert_ptr_nonnull(var);
    size_t at = 8 + n + (size_t)cJSON_GetArrayItem(cJSON_GetObjectItem(var, "data_offsets"), 0)->valueint;
    cJSON_Delete(root);
    static const float bad[] = { -1.0f, -1e-30f };
    for (int k = 0; k < 2; k++) {
        unsigned char *copy = malloc(size);
        memcpy(copy, buf, size);
        uint32_t u;
        memcpy(&u, &bad[k], 4);
        for (int b = 0; b < 4; b++)
            copy[at + 4 * 2 + (size_t)b] = (unsigned char)(u >> (8 * b));   /* element 2, LE */
        spit(path, copy, size);
        free(copy);
        tmlp_err err = { 0 };
        ck_assert_ptr_null(tmlp_model_read(path, 5, NULL, &err));
        ck_assert_int_eq(err.code, TMLP_EFORMAT);
        ck_assert_msg(strstr(err.msg, "layers.0.bn_running_var") && strstr(err.msg, "element 2") &&
                      strstr(err.msg, "negative"), "%s", err.msg);
    }
    free(buf);
    remove_tree(dir);
}
END_TEST

START_TEST(model_read_rejects_corrupt_file)
{
    const corrupt_case *c = &corrupt[_i];
    char dir[64], path[300];
    make_dir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/bad.safetensors", dir);
    write_corrupt(path, c);
    tmlp_err err = { 0 };
    tmlp_model_meta meta = { .n = 99 };  /* garbage in: read must empty it */
    tmlp_net *net = tmlp_model_read(path, 4, &meta, &err);
    ck_assert_msg(net == NULL, "%s: loaded anyway", c->name);
    ck_assert_msg(err.code == c->code, "%s: code %d (%s), want %d: %s", c->name, err.code,
                  tmlp_strerror(err.code), c->code, err.msg);
    ck_assert_msg(strstr(err.msg, c->want) != NULL, "%s: message \"%s\" lacks \"%s\"", c->name,
                  err.msg, c->want);
    ck_assert_msg(strncmp(err.msg, path, strlen(path)) == 0, "%s: message \"%s\" does not start "
                  "with the path", c->name, err.msg);
    ck_assert_int_eq(meta.n, 0);
    ck_assert_ptr_null(meta.kv);
    remove_tree(dir);
}
END_TEST

START_TEST(model_read_rejects_missing_file_and_bad_batch)
{
    char dir[64], path[300];
    make_dir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/none.safetensors", dir);
    tmlp_err err = { 0 };
    ck_assert_ptr_null(tmlp_model_read(path, 4, NULL, &err));
    ck_assert_int_eq(err.code, TMLP_ENOTFOUND);
    ck_assert_ptr_nonnull(strstr(err.msg, path));
    ck_assert_ptr_null(tmlp_model_read(dir, 4, NULL, &err));  /* a directory */
    ck_assert_int_ne(err.code, TMLP_OK);
    tmlp_net *net = make_net(2, TMLP_LOSS_MSE, "3:tanh,1", 1);
    save(path, net, NULL);
    ck_assert_ptr_null(tmlp_model_read(path, 0, NULL, &err));
    ck_assert_int_eq(err.code, TMLP_EINVAL);
    tmlp_net_free(net);
    remove_tree(dir);
}
END_TEST

/* Every prefix of a valid file, and random byte flips in its header, fail cleanly (or load,
 * for flips that keep it valid) and never crash: run under the sanitizers. */
START_TEST(model_read_survives_truncation_and_bit_flips)
{
    char dir[64], path[300], bad[300];
    make_dir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/m.safetensors", dir);
    snprintf(bad, sizeof bad, "%s/bad.safetensors", dir);
    tmlp_net *net = make_net(3, TMLP_LOSS_SOFTMAX_CE, "4:leaky_relu:0.2,2", 2);
    save(path, net, NULL);
    tmlp_net_free(net);
    size_t size;
    unsigned char *buf = slurp(path, &size);
    tmlp_err err;
    for (size_t n = 0; n < size; n++) {
        spit(bad, buf, n);
        ck_assert_ptr_null(tmlp_model_read(bad, 4, NULL, &err));
        ck_assert_int_eq(err.code, TMLP_EFORMAT);
    }
    uint64_t h = 0;
    for (int i = 7; i >= 0; i--)
        h = h << 8 | buf[i];
    tmlp_rng rng;
    tmlp_rng_seed(&rng, 5, 5);
    unsigned char *copy = malloc(size);
    for (int it = 0; it < 400; it++) {
        memcpy(copy, buf, size);
        for (int k = 0; k < 1 + (int)tmlp_rng_below(&rng, 3); k++)
            copy[tmlp_rng_below(&rng, (uint32_t)(8 + h))] ^= (unsigned char)(1u << tmlp_rng_below(&rng, 8));
        spit(bad, copy, size);
        tmlp_model_meta meta;
        net = tmlp_model_read(bad, 4, &meta, &err);
        ck_assert(net != NULL || err.code == TMLP_EFORMAT || err.code == TMLP_ENOTFOUND);
        tmlp_model_meta_free(&meta);
        tmlp_net_free(net);
    }
    free(copy);
    free(buf);
    remove_tree(dir);
}
END_TEST

/* Headers are capped at 1 MiB: the writer refuses more metadata than a reader would accept,
 * and the reader refuses a longer header before parsing it. */
START_TEST(model_header_size_is_capped)
{
    char dir[64], path[300];
    make_dir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/m.safetensors", dir);
    tmlp_net *net = make_net(2, TMLP_LOSS_MSE, "3:tanh,1", 1);
    size_t big = (1u << 20) + 16;
    char *text = malloc(big + 1);
    memset(text, 'a', big);
    text[big] = '\0';
    tmlp_model_meta meta;
    tmlp_model_meta_init(&meta);
    tmlp_err err = { 0 };
    ck_assert_int_eq(tmlp_model_meta_set(&meta, "config", text, &err), TMLP_OK);
    ck_assert_int_eq(tmlp_model_write(path, net, &meta, &err), TMLP_EINVAL);
    ck_assert_ptr_nonnull(strstr(err.msg, "too much metadata"));
    int n_tmp;
    ck_assert_int_eq(count_entries(dir, &n_tmp), 0);

    /* A valid header padded past the cap. */
    save(path, net, NULL);
    size_t size;
    unsigned char *buf = slurp(path, &size);
    uint64_t n = header_len(buf);
    uint64_t n2 = (1u << 20) + 8;
    unsigned char *out = malloc(8 + n2 + (size - 8 - n));
    for (int i = 0; i < 8; i++)
        out[i] = (unsigned char)(n2 >> (8 * i));
    memcpy(out + 8, buf + 8, n);
    memset(out + 8 + n, ' ', n2 - n);
    memcpy(out + 8 + n2, buf + 8 + n, size - 8 - n);
    spit(path, out, 8 + n2 + (size - 8 - n));
    ck_assert_ptr_null(tmlp_model_read(path, 4, NULL, &err));
    ck_assert_int_eq(err.code, TMLP_EFORMAT);
    ck_assert_ptr_nonnull(strstr(err.msg, "header length 1048584 is outside 2..1048576"));
    free(out);
    free(buf);
    free(text);
    tmlp_model_meta_free(&meta);
    tmlp_net_free(net);
    remove_tree(dir);
}
END_TEST

/* ---- atomic writing ---- */

START_TEST(model_write_into_missing_directory_fails)
{
    char dir[64], path[300];
    make_dir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/no/such/dir/m.safetensors", dir);
    tmlp_net *net = make_net(2, TMLP_LOSS_MSE, "3:tanh,1", 1);
    tmlp_err err = { 0 };
    ck_assert_int_eq(tmlp_model_write(path, net, NULL, &err), TMLP_EIO);
    ck_assert_int_eq(err.code, TMLP_EIO);
    ck_assert_ptr_nonnull(strstr(err.msg, path));
    ck_assert_ptr_nonnull(strstr(err.msg, strerror(ENOENT)));
    int n_tmp;
    ck_assert_int_eq(count_entries(dir, &n_tmp), 0);
    tmlp_net_free(net);
    remove_tree(dir);
}
END_TEST

START_TEST(model_write_replaces_existing_file)
{
    char dir[64], path[300];
    make_dir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/m.safetensors", dir);
    tmlp_net *a = make_net(3, TMLP_LOSS_SOFTMAX_CE, "4:relu,2", 1);
    tmlp_net *b = make_net(5, TMLP_LOSS_MSE, "6:sigmoid,7:leaky_relu:0.5,1", 2);
    save(path, a, NULL);
    struct stat st;
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert_int_eq(st.st_mode & 0777, 0644);
    ck_assert_int_eq(chmod(path, 0600), 0);
    save(path, b, NULL);
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert_int_eq(st.st_mode & 0777, 0600);  /* the replaced file's mode is kept */
    tmlp_net *c = load(path, NULL);
    assert_same_net(b, c);
    int n_tmp;
    ck_assert_int_eq(count_entries(dir, &n_tmp), 1);
    ck_assert_int_eq(n_tmp, 0);
    tmlp_net_free(a);
    tmlp_net_free(b);
    tmlp_net_free(c);
    remove_tree(dir);
}
END_TEST

/* A write that fails part way (the file size limit stops it, which holds even for root),
 * one whose target is a directory, and one refused up front all leave the old file as it
 * was and no temporary file behind. */
START_TEST(model_write_failure_keeps_old_file)
{
    char dir[64], path[300], sub[300];
    make_dir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/m.safetensors", dir);
    tmlp_net *a = make_net(3, TMLP_LOSS_SOFTMAX_CE, "4:relu,2", 1);
    tmlp_net *b = make_net(30, TMLP_LOSS_SOFTMAX_CE, "40:relu,2", 2);
    save(path, a, NULL);
    size_t n_old, n_now;
    unsigned char *old = slurp(path, &n_old), *now;
    tmlp_err err = { 0 };
    int n_tmp;

    struct rlimit saved, small;
    ck_assert_int_eq(getrlimit(RLIMIT_FSIZE, &saved), 0);
    small = saved;
    small.rlim_cur = 256;
    void (*prev)(int) = signal(SIGXFSZ, SIG_IGN);
    ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &small), 0);
    int rc = tmlp_model_write(path, b, NULL, &err);
    ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &saved), 0);
    signal(SIGXFSZ, prev);
    ck_assert_msg(rc == TMLP_EIO, "rc %d: %s", rc, err.msg);
    ck_assert_ptr_nonnull(strstr(err.msg, strerror(EFBIG)));
    now = slurp(path, &n_now);
    ck_assert_uint_eq(n_now, n_old);
    ck_assert_int_eq(memcmp(now, old, n_old), 0);
    free(now);
    ck_assert_int_eq(count_entries(dir, &n_tmp), 1);
    ck_assert_int_eq(n_tmp, 0);

    /* The target is a non-empty directory: rename refuses, the directory stays. */
    snprintf(sub, sizeof sub, "%s/d.safetensors", dir);
    ck_assert_int_eq(mkdir(sub, 0755), 0);
    char inner[400];
    snprintf(inner, sizeof inner, "%s/keep", sub);
    spit(inner, "x", 1);
    ck_assert_int_eq(tmlp_model_write(sub, a, NULL, &err), TMLP_EIO);
    ck_assert_ptr_nonnull(strstr(err.msg, sub));
    struct stat st;
    ck_assert_int_eq(stat(inner, &st), 0);
    ck_assert_int_eq(count_entries(dir, &n_tmp), 2);
    ck_assert_int_eq(n_tmp, 0);

    /* A diverged net is refused before anything is written. */
    size_t n;
    float *p = tmlp_net_params(b, &n);
    p[n - 1] = NAN;
    ck_assert_int_eq(tmlp_model_write(path, b, NULL, &err), TMLP_ENUMERIC);
    now = slurp(path, &n_now);
    ck_assert_uint_eq(n_now, n_old);
    ck_assert_int_eq(memcmp(now, old, n_old), 0);
    free(now);
    ck_assert_int_eq(count_entries(dir, &n_tmp), 2);
    ck_assert_int_eq(n_tmp, 0);

    free(old);
    tmlp_net_free(a);
    tmlp_net_free(b);
    remove_tree(dir);
}
END_TEST

/* Files store activation names, so a definition the registry cannot find by its name again
 * (never registered, or a look-alike of a built-in) is refused. */
static const tmlp_act fake_relu = {
    .name = "relu", .formula = "not max(0, x)", .range = "(-inf, inf)",
    .forward = shift_forward, .backward = shift_backward };
static const tmlp_act unregistered = {
    .name = "test_unregistered", .formula = "p_j x", .range = "(-inf, inf)",
    .forward = scale_forward, .backward = scale_backward };

START_TEST(model_write_rejects_unfindable_activation)
{
    char dir[64], path[300];
    make_dir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/m.safetensors", dir);
    const tmlp_act *acts[] = { &fake_relu, &unregistered };
    for (int i = 0; i < 2; i++) {
        tmlp_net_spec spec;
        tmlp_err err = { 0 };
        tmlp_net_spec_init(&spec, 2, TMLP_LOSS_SOFTMAX_CE);
        ck_assert_int_eq(tmlp_net_spec_add(&spec, 3, acts[i], 0.0f, &err), TMLP_OK);
        ck_assert_int_eq(tmlp_net_spec_add(&spec, 2, NULL, 0.0f, &err), TMLP_OK);
        tmlp_net *net = tmlp_net_new(&spec, 4, &err);
        ck_assert_msg(net != NULL, "%s", err.msg);
        ck_assert_int_eq(tmlp_model_write(path, net, NULL, &err), TMLP_EINVAL);
        ck_assert_ptr_nonnull(strstr(err.msg, acts[i]->name));
        int n_tmp;
        ck_assert_int_eq(count_entries(dir, &n_tmp), 0);
        tmlp_net_free(net);
    }
    remove_tree(dir);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("model_io");
    TMLP_ADD(s, model_round_trip_is_bit_identical);
    TMLP_ADD(s, model_round_trip_keeps_learnable_act_params);
    TMLP_ADD(s, model_meta_round_trip);
    TMLP_ADD(s, model_read_keeps_old_bare_widths_linear);
    TMLP_ADD(s, model_file_is_safetensors);
    TMLP_ADD(s, model_read_accepts_any_tensor_order);
    TCase *tc = tcase_create("model_read_rejects_corrupt_file");
    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, model_read_rejects_corrupt_file, 0, N_CORRUPT);
    suite_add_tcase(s, tc);
    TMLP_ADD(s, model_read_rejects_missing_file_and_bad_batch);
    TMLP_ADD(s, model_read_survives_truncation_and_bit_flips);
    TMLP_ADD(s, model_header_size_is_capped);
    TMLP_ADD(s, model_write_into_missing_directory_fails);
    TMLP_ADD(s, model_write_replaces_existing_file);
    TMLP_ADD(s, model_write_failure_keeps_old_file);
    TMLP_ADD(s, model_write_rejects_unfindable_activation);
    TMLP_ADD(s, model_read_rejects_negative_bn_variance);
    TMLP_ADD(s, model_names_the_plugin_of_a_missing_activation);
    return s;
}

TMLP_TEST_MAIN()
