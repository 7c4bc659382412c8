/*
 * Trading hours as intervals (see include/warden/session.h). Pure.
 */
#include <stdlib.h>

#include "warden/session.h"
#include "warden/timeutil.h"

static int cmp_day(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

bool wd_session_day(const struct wd_config *cfg, int64_t day)
{
    if (!(cfg->session.days_mask & (1u << wd_weekday_from_days(day)))) {
        return false;
    }
    return cfg->session.n_holidays == 0 ||
           bsearch(&day, cfg->session.holidays, cfg->session.n_holidays, sizeof(int64_t),
                   cmp_day) == NULL;
}

/* The UTC instant of local time `minute` (after midnight) on local day
 * `day`: the offset is taken at the instant itself (two steps settle it for
 * any instant not inside a DST jump; session hours never are). */
static int64_t local_minute_ns(const struct wd_tz *tz, int64_t day, int minute)
{
    int64_t local_s = day * 86400 + (int64_t)minute * 60;
    int64_t utc_s = local_s - wd_tz_offset_s(tz, local_s);
    utc_s = local_s - wd_tz_offset_s(tz, utc_s);
    return utc_s * WD_NS_PER_S;
}

/* Past the last day whose instants fit in int64 nanoseconds. */
#define LAST_DAY (INT64_MAX / WD_NS_PER_DAY - 2)

/* The scan is bounded: each week holds a session weekday unless a holiday
 * takes it, so a stretch without a session day is shorter than
 * 7 * (n_holidays + 1) days; with no session weekday there is none. */
bool wd_session_next(const struct wd_config *cfg, const struct wd_tz *tz, int64_t t_ns,
                     int64_t limit_ns, int64_t *open_ns, int64_t *close_ns)
{
    if ((cfg->session.days_mask & 0x7fu) == 0) {
        return false;
    }
    /* From the day before: a session that started then may still be open
     * (only with close past local midnight, which the configuration
     * forbids; scanning one day early is cheap and safe). */
    int64_t day = wd_tz_local_day(tz, t_ns, NULL, NULL) - 1;
    int64_t last = day + 7 * ((int64_t)cfg->session.n_holidays + 1) + 2;
    for (; day <= last && day <= LAST_DAY; day++) {
        int64_t o = local_minute_ns(tz, day, cfg->session.open_min);
        if (o >= limit_ns) {
            return false;
        }
        if (!wd_session_day(cfg, day)) {
            continue;
        }
        int64_t c = local_minute_ns(tz, day, cfg->session.close_min);
        if (c > t_ns && c > o) {
            *open_ns = o;
            *close_ns = c;
            return true;
        }
    }
    return false;
}

int64_t wd_session_open_ns(const struct wd_config *cfg, const struct wd_tz *tz,
                           int64_t start_ns, int64_t end_ns)
{
    int64_t total = 0, o, c, t = start_ns;
    while (t < end_ns && wd_session_next(cfg, tz, t, end_ns, &o, &c)) {
        int64_t a = o > t ? o : t, b = c < end_ns ? c : end_ns;
        total += b - a;
        t = c;
    }
    return total;
}
