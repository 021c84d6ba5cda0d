/* api/http/router.c: pattern matching (literals beat parameters, trailing slash,
 * malformed paths), parameters, 405 with its Allow list, HEAD on GET routes
 * except SL_ROUTE_NO_HEAD, modules started in order and stopped in reverse
 * (also after a failed start), and the full route table registering without a
 * conflict. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "api/http/router.h"
#include "tests/support/testutil.h"

static void h_a(struct sl_req *req)
{
    (void)req;
}
static void h_b(struct sl_req *req)
{
    (void)req;
}
static void h_c(struct sl_req *req)
{
    (void)req;
}

static struct sl_router *r;
static struct sl_route_match m;
static char allow[128];

static void setup(void)
{
    ck_assert_int_eq(sl_router_new(&r), 0);
    sl_router_add(r, "GET", "/topics", h_a);
    sl_router_add(r, "GET", "/topics/{t}", h_b);
    sl_router_add(r, "DELETE", "/topics/{t}", h_c);
    sl_router_add(r, "GET", "/topics/{t}/partitions/{p}", h_b);
    sl_router_add(r, "POST", "/topics/special", h_a);
    sl_router_add(r, "POST", "/v3/clusters/{c}/topics/{t}/records:batch", h_c);
    struct sl_route_ops ops = {.handle = h_a};
    sl_router_add_ops(r, "GET", "/consumers/{g}/instances/{i}/records", &ops, SL_ROUTE_NO_HEAD);
}

static void teardown(void)
{
    sl_router_free(r);
}

static enum sl_router_result match(const char *method, const char *path)
{
    static char buf[256];
    strcpy(buf, path);
    allow[0] = '\0';
    return sl_router_match(r, method, buf, &m, allow, sizeof allow);
}

START_TEST(literals_and_parameters)
{
    ck_assert_int_eq(match("GET", "/topics"), SL_ROUTE_FOUND);
    ck_assert_ptr_eq(m.ops->handle, h_a);
    ck_assert_str_eq(m.pattern, "/topics");
    ck_assert_int_eq(match("GET", "/topics/"), SL_ROUTE_FOUND); /* a trailing slash is ignored */
    ck_assert_str_eq(m.pattern, "/topics");
    ck_assert_int_eq(match("GET", "/topics/orders"), SL_ROUTE_FOUND);
    ck_assert_ptr_eq(m.ops->handle, h_b);
    ck_assert_str_eq(sl_route_param(&m, "t"), "orders");
    ck_assert_ptr_null(sl_route_param(&m, "p"));
    ck_assert_int_eq(match("GET", "/topics/orders/partitions/7"), SL_ROUTE_FOUND);
    ck_assert_uint_eq(m.nparams, 2);
    ck_assert_str_eq(sl_route_param(&m, "t"), "orders");
    ck_assert_str_eq(sl_route_param(&m, "p"), "7");
    ck_assert_int_eq(match("POST", "/v3/clusters/c1/topics/t1/records:batch"), SL_ROUTE_FOUND);
    ck_assert_str_eq(sl_route_param(&m, "c"), "c1");
}
END_TEST

START_TEST(the_most_literal_pattern_wins)
{
    /* POST /topics/special is a literal route; GET of the same path is the {t}
     * route */
    ck_assert_int_eq(match("POST", "/topics/special"), SL_ROUTE_FOUND);
    ck_assert_str_eq(m.pattern, "/topics/special");
    ck_assert_int_eq(match("GET", "/topics/special"), SL_ROUTE_BAD_METHOD);
    ck_assert_str_eq(allow, "POST");
    ck_assert_int_eq(match("GET", "/topics/other"), SL_ROUTE_FOUND);
    ck_assert_str_eq(m.pattern, "/topics/{t}");
}
END_TEST

START_TEST(unmatched_and_malformed_paths)
{
    const char *paths[] = {"",
                           "topics",
                           "/",
                           "/nope",
                           "/topics//x",
                           "/topics/a/partitions",
                           "/topics/a/partitions/1/x",
                           "//topics",
                           "/a/b/c/d/e/f/g/h/i/j/k/l/m/n/o/p/q"};
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        ck_assert_msg(match("GET", paths[i]) == SL_ROUTE_NOT_FOUND, "%s matched", paths[i]);
        ck_assert_int_eq(m.route, -1);
    }
}
END_TEST

START_TEST(wrong_methods_list_the_allowed_ones)
{
    ck_assert_int_eq(match("PUT", "/topics/x"), SL_ROUTE_BAD_METHOD);
    ck_assert_str_eq(allow, "GET, HEAD, DELETE");
    ck_assert_int_eq(match("POST", "/topics"), SL_ROUTE_BAD_METHOD);
    ck_assert_str_eq(allow, "GET, HEAD");
    char tiny[4];
    char path[] = "/topics/x";
    ck_assert_int_eq(sl_router_match(r, "PUT", path, &m, tiny, sizeof tiny), SL_ROUTE_BAD_METHOD);
    ck_assert_uint_lt(strlen(tiny), sizeof tiny); /* truncated, still terminated */
}
END_TEST

START_TEST(head_follows_get_except_no_head_routes)
{
    ck_assert_int_eq(match("HEAD", "/topics/x"), SL_ROUTE_FOUND);
    ck_assert_ptr_eq(m.ops->handle, h_b);
    ck_assert_int_eq(match("HEAD", "/consumers/g/instances/i/records"), SL_ROUTE_BAD_METHOD);
    ck_assert_str_eq(allow, "GET");
    ck_assert_int_eq(match("GET", "/consumers/g/instances/i/records"), SL_ROUTE_FOUND);
}
END_TEST

START_TEST(routes_are_listed_in_order)
{
    ck_assert_uint_eq(sl_router_count(r), 7);
    const char *method, *pattern;
    unsigned flags;
    sl_router_route(r, 2, &method, &pattern, &flags);
    ck_assert_str_eq(method, "DELETE");
    ck_assert_str_eq(pattern, "/topics/{t}");
    ck_assert_uint_eq(flags, 0);
    sl_router_route(r, 6, &method, &pattern, &flags);
    ck_assert_uint_eq(flags, SL_ROUTE_NO_HEAD);
}
END_TEST

static char trail[16];
static size_t ntrail;
static int fail_at; /* the module whose start fails (1-based), 0 = none */

static int start_1(struct sl_api *api)
{
    (void)api;
    trail[ntrail++] = 'a';
    return fail_at == 1 ? -5 : 0;
}
static int start_2(struct sl_api *api)
{
    (void)api;
    trail[ntrail++] = 'b';
    return fail_at == 2 ? -7 : 0;
}
static void stop_1(struct sl_api *api)
{
    (void)api;
    trail[ntrail++] = 'A';
}
static void stop_2(struct sl_api *api)
{
    (void)api;
    trail[ntrail++] = 'B';
}
static int start_3(struct sl_api *api)
{
    (void)api;
    trail[ntrail++] = 'c';
    return fail_at == 3 ? -9 : 0;
}

START_TEST(modules_start_in_order_and_stop_in_reverse)
{
    sl_router_add_module(r, "one", start_1, stop_1);
    sl_router_add_module(r, "two", start_2, stop_2);
    sl_router_add_module(r, "three", start_3, NULL);
    fail_at = 0;
    ntrail = 0;
    ck_assert_int_eq(sl_router_modules_start(r, NULL), 0);
    sl_router_modules_stop(r, NULL);
    sl_router_modules_stop(r, NULL); /* a second stop stops nothing */
    trail[ntrail] = '\0';
    ck_assert_str_eq(trail, "abcBA");
    fail_at = 3;
    ntrail = 0;
    ck_assert_int_eq(sl_router_modules_start(r, NULL), -9);
    trail[ntrail] = '\0';
    ck_assert_str_eq(trail, "abcBA"); /* the started ones were stopped again */
}
END_TEST

START_TEST(the_full_table_registers)
{
    struct sl_router *all;
    ck_assert_int_eq(sl_router_new(&all), 0);
    sl_routes_register_all(all); /* aborts on a duplicate or malformed pattern */
    ck_assert_uint_gt(sl_router_count(all), 50);
    char path[] = "/v3/clusters/abc/topics/orders";
    struct sl_route_match mm;
    ck_assert_int_eq(sl_router_match(all, "GET", path, &mm, NULL, 0), SL_ROUTE_FOUND);
    ck_assert_str_eq(sl_route_param(&mm, "t"), "orders");
    ck_assert_str_eq(sl_route_param(&mm, "cid"), "abc");
    ck_assert_int_eq(mm.flags, 0);
    char rec[] = "/v3/clusters/abc/topics/orders/records";
    ck_assert_int_eq(sl_router_match(all, "POST", rec, &mm, NULL, 0), SL_ROUTE_FOUND);
    ck_assert_int_eq(mm.flags & SL_ROUTE_STREAM, SL_ROUTE_STREAM);
    sl_router_free(all);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("router");
    TCase *tc = tcase_create("router");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, literals_and_parameters);
    tcase_add_test(tc, the_most_literal_pattern_wins);
    tcase_add_test(tc, unmatched_and_malformed_paths);
    tcase_add_test(tc, wrong_methods_list_the_allowed_ones);
    tcase_add_test(tc, head_follows_get_except_no_head_routes);
    tcase_add_test(tc, routes_are_listed_in_order);
    tcase_add_test(tc, modules_start_in_order_and_stop_in_reverse);
    tcase_add_test(tc, the_full_table_registers);
    suite_add_tcase(s, tc);
    return sl_test_run_suite(s);
}
