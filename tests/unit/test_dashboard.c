/*
 * The dashboard's route and embedded page (src/svc/dashboard.c): which
 * requests are the page, and that the page embedded at build time is the
 * whole of src/svc/dashboard.html.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "svc/dashboard.h"

static void routes(void **state)
{
    (void)state;
    assert_true(wd_dashboard_match("GET", "/incidents"));
    assert_true(wd_dashboard_match("GET", "/incidents/"));
    assert_true(wd_dashboard_match("GET", "/incidents?x=1"));
    assert_true(wd_dashboard_match("GET", "/incidents/INC-20261127-001"));
    assert_true(wd_dashboard_match("GET", "/incidents/INC-1?a=/b"));
    assert_true(wd_dashboard_match("HEAD", "/incidents"));
    assert_false(wd_dashboard_match("POST", "/incidents"));
    assert_false(wd_dashboard_match("GET", "/incidentsx"));
    assert_false(wd_dashboard_match("GET", "/incidents/a/b"));
    assert_false(wd_dashboard_match("GET", "/api/v1/incidents"));
    assert_false(wd_dashboard_match("GET", "/"));
    assert_false(wd_dashboard_match(NULL, "/incidents"));
    assert_false(wd_dashboard_match("GET", NULL));
}

static void page_is_the_source(void **state)
{
    (void)state;
    size_t n = 0;
    const char *page = wd_dashboard_page(&n);
    assert_true(n > 1000);
    assert_int_equal(page[n], '\0');
    assert_int_equal(strlen(page), n);
    assert_memory_equal(page, "<!DOCTYPE html>", 15);

    const char *dir = getenv("WD_SOURCE_DIR");
    if (dir == NULL) {
        skip();
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/src/svc/dashboard.html", dir);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    char *src = malloc(n + 2);
    assert_non_null(src);
    size_t got = fread(src, 1, n + 1, f);
    fclose(f);
    assert_int_equal(got, n);
    assert_memory_equal(src, page, n);
    free(src);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(routes),
        cmocka_unit_test(page_is_the_source),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
