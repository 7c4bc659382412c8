/*
 * Trading hours as intervals of time (SPEC sections 6 and 8): the market
 * is open from session.open to session.close local time, in session.tz, on
 * the weekdays of session.days that are not in session.holidays.
 *
 * Where the engine asks "is the market open at t", the offline reports
 * (warden gaps) need "when is it open between a and b"; this answers the
 * latter. Pure: the zone and configuration come in, nothing is read.
 */
#ifndef WD_CORE_SESSION_H
#define WD_CORE_SESSION_H

#include <stdbool.h>
#include <stdint.h>

#include "warden/config.h"
#include "warden/tz.h"

/* Whether local day `day` (days since the epoch, in session.tz) is a
 * trading day: one of session.days and not a holiday. */
bool wd_session_day(const struct wd_config *cfg, int64_t day);

/* The open interval [*open_ns, *close_ns) that contains t_ns, or else the
 * first one that starts after t_ns. false when no session starts before
 * limit_ns (then the outputs are not written). cfg and tz are borrowed for
 * the call; tz NULL is UTC. */
bool wd_session_next(const struct wd_config *cfg, const struct wd_tz *tz, int64_t t_ns,
                     int64_t limit_ns, int64_t *open_ns, int64_t *close_ns);

/* Total open time (ns) inside [start_ns, end_ns); 0 when end <= start. */
int64_t wd_session_open_ns(const struct wd_config *cfg, const struct wd_tz *tz,
                           int64_t start_ns, int64_t end_ns);

#endif /* WD_CORE_SESSION_H */
