/*
 * Unit tests for src/core/intern.c (include/warden/intern.h): dense ids
 * handed out from 0 in arrival order, the same name always getting the same
 * id, lookups that never add, the max_names bound (WD_EFULL, with known
 * names still resolving), the name-length bounds (WD_EINVAL), names kept
 * intact across table and arena growth, and wd_intern_name. The table only
 * copies names, so the tests reuse one buffer for every name they insert.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "warden/intern.h"

static uint32_t get_ok(struct wd_intern *t, const char *name)
{
    uint32_t id = 0xdeadbeefu;
    enum wd_status st = wd_intern_get(t, name, strlen(name), &id);
    if (st != WD_OK)
        fail_msg("get(\"%s\") failed with status %d", name, (int)st);
    return id;
}

static void test_intern_ids_are_dense_from_zero(void **state)
{
    struct wd_intern t;
    (void)state;
    assert_int_equal(wd_intern_init(&t, 16), WD_OK);
    assert_int_equal(wd_intern_count(&t), 0);
    assert_int_equal(get_ok(&t, "AAPL"), 0);
    assert_int_equal(get_ok(&t, "MSFT"), 1);
    assert_int_equal(get_ok(&t, "BTC-USD"), 2);
    assert_int_equal(wd_intern_count(&t), 3);
    wd_intern_destroy(&t);
}

static void test_intern_same_name_same_id(void **state)
{
    struct wd_intern t;
    char buf[16];
    (void)state;
    assert_int_equal(wd_intern_init(&t, 16), WD_OK);
    assert_int_equal(get_ok(&t, "AAPL"), 0);
    assert_int_equal(get_ok(&t, "MSFT"), 1);
    /* A different buffer with the same bytes. */
    memcpy(buf, "AAPL", 5);
    assert_int_equal(get_ok(&t, buf), 0);
    assert_int_equal(get_ok(&t, "MSFT"), 1);
    assert_int_equal(wd_intern_count(&t), 2);
    wd_intern_destroy(&t);
}

static void test_intern_prefixes_and_case_are_distinct(void **state)
{
    struct wd_intern t;
    uint32_t id = 99;
    (void)state;
    assert_int_equal(wd_intern_init(&t, 16), WD_OK);
    assert_int_equal(get_ok(&t, "AB"), 0);
    assert_int_equal(get_ok(&t, "ABC"), 1);
    assert_int_equal(get_ok(&t, "A"), 2);
    assert_int_equal(get_ok(&t, "ab"), 3);
    /* Only the first len bytes count. */
    assert_int_equal(wd_intern_get(&t, "ABCD", 3, &id), WD_OK);
    assert_int_equal(id, 1);
    assert_int_equal(wd_intern_count(&t), 4);
    wd_intern_destroy(&t);
}

static void test_intern_find_never_adds(void **state)
{
    struct wd_intern t;
    uint32_t id = 99;
    (void)state;
    assert_int_equal(wd_intern_init(&t, 16), WD_OK);
    assert_int_equal(wd_intern_find(&t, "AAPL", 4, &id), WD_ENOTFOUND);
    assert_int_equal(id, 99);
    assert_int_equal(wd_intern_count(&t), 0);
    assert_int_equal(get_ok(&t, "AAPL"), 0);
    assert_int_equal(get_ok(&t, "MSFT"), 1);
    assert_int_equal(wd_intern_find(&t, "MSFT", 4, &id), WD_OK);
    assert_int_equal(id, 1);
    assert_int_equal(wd_intern_find(&t, "AAPL", 4, &id), WD_OK);
    assert_int_equal(id, 0);
    assert_int_equal(wd_intern_find(&t, "GOOG", 4, &id), WD_ENOTFOUND);
    assert_int_equal(wd_intern_find(&t, "", 0, &id), WD_ENOTFOUND);
    assert_int_equal(wd_intern_count(&t), 2);
    /* GOOG was looked up but not added: it gets the next id now. */
    assert_int_equal(get_ok(&t, "GOOG"), 2);
    wd_intern_destroy(&t);
}

static void test_intern_full_at_max_names(void **state)
{
    struct wd_intern t;
    uint32_t id = 99;
    (void)state;
    assert_int_equal(wd_intern_init(&t, 2), WD_OK);
    assert_int_equal(get_ok(&t, "A"), 0);
    assert_int_equal(get_ok(&t, "B"), 1);
    assert_int_equal(wd_intern_get(&t, "C", 1, &id), WD_EFULL);
    assert_int_equal(id, 99);
    assert_int_equal(wd_intern_count(&t), 2);
    assert_int_equal(wd_intern_find(&t, "C", 1, &id), WD_ENOTFOUND);
    /* Known names still resolve once the table is full. */
    assert_int_equal(get_ok(&t, "A"), 0);
    assert_int_equal(get_ok(&t, "B"), 1);
    assert_int_equal(wd_intern_get(&t, "D", 1, &id), WD_EFULL);
    wd_intern_destroy(&t);
}

static void test_intern_max_names_one(void **state)
{
    struct wd_intern t;
    uint32_t id = 99;
    (void)state;
    assert_int_equal(wd_intern_init(&t, 1), WD_OK);
    assert_int_equal(get_ok(&t, "default"), 0);
    assert_int_equal(wd_intern_get(&t, "other", 5, &id), WD_EFULL);
    wd_intern_destroy(&t);
}

static void test_intern_init_rejects_zero_max(void **state)
{
    struct wd_intern t;
    (void)state;
    assert_int_equal(wd_intern_init(&t, 0), WD_EINVAL);
    wd_intern_destroy(&t); /* init zeroed it: destroy is safe */
}

static void test_intern_rejects_empty_and_overlong_names(void **state)
{
    struct wd_intern t;
    char name[WD_INTERN_NAME_MAX + 2];
    uint32_t id = 99;
    (void)state;
    memset(name, 'x', sizeof name);
    assert_int_equal(wd_intern_init(&t, 16), WD_OK);
    assert_int_equal(wd_intern_get(&t, "", 0, &id), WD_EINVAL);
    assert_int_equal(wd_intern_get(&t, name, WD_INTERN_NAME_MAX + 1, &id), WD_EINVAL);
    assert_int_equal(wd_intern_get(&t, name, WD_INTERN_NAME_MAX + 2, &id), WD_EINVAL);
    assert_int_equal(id, 99);
    assert_int_equal(wd_intern_count(&t), 0);
    /* Exactly WD_INTERN_NAME_MAX bytes is accepted. */
    assert_int_equal(wd_intern_get(&t, name, WD_INTERN_NAME_MAX, &id), WD_OK);
    assert_int_equal(id, 0);
    assert_int_equal(strlen(wd_intern_name(&t, 0)), WD_INTERN_NAME_MAX);
    assert_int_equal(wd_intern_find(&t, name, WD_INTERN_NAME_MAX + 1, &id), WD_ENOTFOUND);
    wd_intern_destroy(&t);
}

static void test_intern_names_survive_growth(void **state)
{
    enum { N = 10000 };
    struct wd_intern t;
    char buf[32];
    uint32_t id;
    (void)state;
    assert_int_equal(wd_intern_init(&t, N), WD_OK);
    for (uint32_t i = 0; i < N; i++) {
        int n = snprintf(buf, sizeof buf, "SYM%05u.%u", (unsigned)i, (unsigned)(i * 7919u));
        assert_true(n > 0);
        id = 0xdeadbeefu;
        assert_int_equal(wd_intern_get(&t, buf, (size_t)n, &id), WD_OK);
        assert_int_equal(id, i);
        memset(buf, '#', sizeof buf); /* the table must have copied it */
    }
    assert_int_equal(wd_intern_count(&t), N);
    for (uint32_t i = 0; i < N; i++) {
        int n = snprintf(buf, sizeof buf, "SYM%05u.%u", (unsigned)i, (unsigned)(i * 7919u));
        assert_string_equal(wd_intern_name(&t, i), buf);
        id = 0xdeadbeefu;
        assert_int_equal(wd_intern_find(&t, buf, (size_t)n, &id), WD_OK);
        assert_int_equal(id, i);
        assert_int_equal(wd_intern_get(&t, buf, (size_t)n, &id), WD_OK);
        assert_int_equal(id, i);
    }
    assert_int_equal(wd_intern_count(&t), N);
    assert_int_equal(wd_intern_get(&t, "one-more", 8, &id), WD_EFULL);
    wd_intern_destroy(&t);
}

static void test_intern_name_returns_nul_terminated_copy(void **state)
{
    struct wd_intern t;
    char buf[8];
    uint32_t id = 0;
    (void)state;
    assert_int_equal(wd_intern_init(&t, 16), WD_OK);
    memcpy(buf, "AAPLxyz", 8);
    assert_int_equal(wd_intern_get(&t, buf, 4, &id), WD_OK);
    memcpy(buf, "ZZZZZZZ", 8);
    assert_string_equal(wd_intern_name(&t, id), "AAPL");
    assert_int_equal(get_ok(&t, "MSFT"), 1);
    assert_string_equal(wd_intern_name(&t, 1), "MSFT");
    assert_string_equal(wd_intern_name(&t, 0), "AAPL");
    /* Out of range: the empty string, never a stale pointer. */
    assert_string_equal(wd_intern_name(&t, 2), "");
    assert_string_equal(wd_intern_name(&t, UINT32_MAX), "");
    wd_intern_destroy(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_intern_ids_are_dense_from_zero),
        cmocka_unit_test(test_intern_same_name_same_id),
        cmocka_unit_test(test_intern_prefixes_and_case_are_distinct),
        cmocka_unit_test(test_intern_find_never_adds),
        cmocka_unit_test(test_intern_full_at_max_names),
        cmocka_unit_test(test_intern_max_names_one),
        cmocka_unit_test(test_intern_init_rejects_zero_max),
        cmocka_unit_test(test_intern_rejects_empty_and_overlong_names),
        cmocka_unit_test(test_intern_names_survive_growth),
        cmocka_unit_test(test_intern_name_returns_nul_terminated_copy),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
