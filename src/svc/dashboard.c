/*
 * The dashboard's route and page (dashboard.h).
 */
#include "svc/dashboard.h"

#include <string.h>

/* Generated from src/svc/dashboard.html (scripts/embed.cmake). */
extern const unsigned char wd__dashboard_html[];
extern const size_t wd__dashboard_html_len;

#define ROOT "/incidents"

bool wd_dashboard_match(const char *method, const char *path)
{
    if (method == NULL || path == NULL ||
        (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) ||
        strncmp(path, ROOT, sizeof ROOT - 1) != 0) {
        return false;
    }
    const char *p = path + sizeof ROOT - 1;
    if (*p == '\0' || *p == '?') {
        return true;
    }
    if (*p != '/') {
        return false; /* "/incidentsX" */
    }
    /* "/incidents/" or "/incidents/{id}": one segment, no further '/'. */
    size_t n = strcspn(p + 1, "?");
    return memchr(p + 1, '/', n) == NULL;
}

const char *wd_dashboard_page(size_t *len)
{
    *len = wd__dashboard_html_len;
    return (const char *)wd__dashboard_html;
}
