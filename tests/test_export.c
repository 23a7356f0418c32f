/* test_export.c: pieces of `tinymlp export` (src/cli/export_c.c, src/cli/sha256.c) that the
 * end-to-end checks in tests/export.sh cannot reach: activations that are not built in, the
 * float literals, SHA-256 against FIPS 180-2's vectors. */
#include <stdio.h>

#include "testutil.h"
#include "cli/export.h"
#include "cli/sha256.h"

static void my_forward(int rows, int cols, const float *x, float *y, float arg, const float *param)
{
    (void)arg; (void)param;
    for (long i = 0; i < (long)rows * cols; i++)
        y[i] = 2.0f * x[i];
}
static void my_backward(int rows, int cols, const float *x, const float *y, const float *dy,
                        float *dx, float arg, const float *param, float *dparam)
{
    (void)x; (void)y; (void)arg; (void)param; (void)dparam;
    for (long i = 0; i < (long)rows * cols; i++)
        dx[i] = 2.0f * dy[i];
}

/* A net 3 -> 4:act -> 2 with act given by definition. */
static tmlp_net *net_with(const tmlp_act *act)
{
    tmlp_net_spec spec;
    tmlp_err err = { 0 };
    tmlp_net_spec_init(&spec, 3, TMLP_LOSS_SOFTMAX_CE);
    ck_assert_int_eq(tmlp_net_spec_add(&spec, 4, act, 0.0f, &err), 0);
    ck_assert_int_eq(tmlp_net_spec_add(&spec, 2, NULL, 0.0f, &err), 0);
    tmlp_net *net = tmlp_net_new(&spec, 1, &err);
    ck_assert_ptr_nonnull(net);
    return net;
}

START_TEST(export_refuses_an_activation_that_is_not_built_in)
{
    static const tmlp_act mine = { .name = "doubler", .forward = my_forward, .backward = my_backward };
    tmlp_err err = { 0 };
    ck_assert_int_eq(tmlp_act_register(&mine, &err), 0);
    /* a copy of relu under relu's own name is not the built-in either */
    tmlp_act fake_relu = *tmlp_act_find("relu");
    const tmlp_act *defs[] = { &mine, &fake_relu };
    const char *names[] = { "'doubler'", "'relu'" };
    for (int k = 0; k < 2; k++) {
        tmlp_net *net = net_with(defs[k]);
        cli_prep prep = { .scale = 1.0f };
        export_model m;
        memset(&err, 0, sizeof err);
        ck_assert_int_eq(export_fold(&m, net, &prep, &err), TMLP_EINVAL);
        ck_assert_msg(strstr(err.msg, names[k]) && strstr(err.msg, "layer 1"), "%s", err.msg);
        ck_assert_int_eq(m.n_layers, 0); /* nothing left to free */
        tmlp_net_free(net);
    }
    /* the real relu exports */
    tmlp_net *net = net_with(tmlp_act_find("relu"));
    cli_prep prep = { .scale = 1.0f };
    export_model m;
    ck_assert_int_eq(export_fold(&m, net, &prep, &err), 0);
    ck_assert_int_eq(m.n_layers, 2);
    export_model_free(&m);
    tmlp_net_free(net);
}
END_TEST

START_TEST(float_literals_read_back_exactly)
{
    tmlp_rng rng;
    tmlp_rng_seed(&rng, 19, 1);
    float special[] = { 0.0f, -0.0f, 1.0f, -3.0f, 100.0f, 1e-40f, 3.4028235e38f, 0.1f, 16777217.0f };
    for (int k = 0; k < 10000 + 9; k++) {
        float v;
        if (k < 9) {
            v = special[k];
        } else {
            uint32_t bits = (uint32_t)(tmlp_rng_uniform(&rng) * 4294967295.0);
            memcpy(&v, &bits, sizeof v);
            if (!isfinite(v))
                continue;
        }
        char lit[48], *end;
        export_float_literal(lit, sizeof lit, v);
        size_t n = strlen(lit);
        ck_assert_msg(n > 1 && lit[n - 1] == 'f' && strpbrk(lit, ".e"), "%s is not a float literal", lit);
        float back = strtof(lit, &end);
        ck_assert_msg(end == lit + n - 1 && memcmp(&back, &v, sizeof v) == 0, "%s != %.9g", lit, (double)v);
    }
}
END_TEST

START_TEST(sha256_matches_the_standard_vectors)
{
    static const struct { const char *msg; const char *hex; } v[] = {
        { "", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" },
        { "abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" },
        { "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
          "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1" },
    };
    char hex[65];
    for (int k = 0; k < 3; k++) {
        cli_sha256 s;
        cli_sha256_init(&s);
        cli_sha256_update(&s, v[k].msg, strlen(v[k].msg));
        cli_sha256_hex(&s, hex);
        ck_assert_str_eq(hex, v[k].hex);
    }
    /* a million 'a' in uneven pieces */
    static char a[1000];
    memset(a, 'a', sizeof a);
    cli_sha256 s;
    cli_sha256_init(&s);
    for (size_t done = 0, step = 1; done < 1000000; done += step, step = step % 997 + 1)
        cli_sha256_update(&s, a, done + step > 1000000 ? 1000000 - done : step);
    cli_sha256_hex(&s, hex);
    ck_assert_str_eq(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
    tmlp_err err = { 0 };
    ck_assert_int_eq(cli_sha256_file("/nonexistent/model.safetensors", hex, &err), TMLP_EIO);
    ck_assert_ptr_nonnull(strstr(err.msg, "/nonexistent/model.safetensors"));
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("export");
    TMLP_ADD(s, export_refuses_an_activation_that_is_not_built_in);
    TMLP_ADD(s, float_literals_read_back_exactly);
    TMLP_ADD(s, sha256_matches_the_standard_vectors);
    return s;
}

TMLP_TEST_MAIN()
