/*
 * The store tests' fixture: a store file in a fresh temporary directory,
 * with a fake clock for the audit chain's entry times (each entry gets the
 * next nanosecond from STORE_FIXTURE_CLOCK). Include after cmocka.h, with
 * STORE_FIXTURE_DIR (a mkdtemp template) and STORE_FIXTURE_CLOCK defined.
 */
#ifndef WD_TESTS_UNIT_STORE_FIXTURE_H
#define WD_TESTS_UNIT_STORE_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "store/store.h"

struct fixture {
    char dir[64];
    char path[128];
    int64_t clock; /* the fake clock */
};

static int setup(void **state)
{
    struct fixture *fx = calloc(1, sizeof *fx);
    if (fx == NULL)
        return -1;
    (void)snprintf(fx->dir, sizeof fx->dir, "%s", STORE_FIXTURE_DIR);
    if (mkdtemp(fx->dir) == NULL) {
        free(fx);
        return -1;
    }
    (void)snprintf(fx->path, sizeof fx->path, "%s/warden.db", fx->dir);
    fx->clock = STORE_FIXTURE_CLOCK;
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *fx = *state;
    static const char *const suffix[] = {"", "-wal", "-shm"};
    for (size_t i = 0; i < 3; i++) {
        char p[160];
        (void)snprintf(p, sizeof p, "%s%s", fx->path, suffix[i]);
        (void)unlink(p);
    }
    (void)rmdir(fx->dir);
    free(fx);
    return 0;
}

static int64_t fake_now(void *ctx)
{
    struct fixture *fx = ctx;
    return ++fx->clock;
}

static struct wd_store *open_ok(struct fixture *fx)
{
    struct wd_store *s = NULL;
    struct wd_error err = {0};
    enum wd_status st = wd_store_open(fx->path, &s, &err);
    if (st != WD_OK)
        print_error("wd_store_open: %s\n", err.msg);
    assert_int_equal(st, WD_OK);
    wd_store_set_clock(s, fake_now, fx);
    return s;
}

#endif /* WD_TESTS_UNIT_STORE_FIXTURE_H */
