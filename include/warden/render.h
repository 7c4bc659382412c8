/*
 * The playbook's documents and messages, rendered from an incident record
 * (issue 5 items 6 and 7): the incident report (Step 5), the incident log
 * (Appendix), the post-incident review (its agenda template, due 48 hours
 * after resolution, follow-up two weeks after the review) and the three
 * communication templates (initial notification, status update, resolution).
 *
 * Pure: the text goes into a caller-owned growable buffer (the core may not
 * write to a FILE), the time is an argument, nothing is read from a clock or
 * the environment. The same record, timeline, now and zone give the same
 * bytes. What the record does not hold (root cause, what went well, lessons)
 * is written as a bracketed placeholder for people to fill, never invented.
 * See docs/INCIDENT-DOCUMENTS.md.
 */
#ifndef WD_CORE_RENDER_H
#define WD_CORE_RENDER_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "warden/incident.h"
#include "warden/status.h"
#include "warden/tz.h"

/* ---- the output buffer ---------------------------------------------------- */

/* Default bound of a rendered text: a record filled to every bound with a
 * few thousand timeline entries fits well within it. */
#define WD_RENDER_MAX_DEFAULT (4u * 1024u * 1024u)

/* A growable text buffer. data is from realloc() and owned by the buffer
 * (freed by wd_render_buf_destroy); it is NUL-terminated whenever it is not
 * NULL. len excludes the NUL. max bounds len (WD_EFULL beyond it). */
struct wd_render_buf {
    char *data;
    size_t len, cap, max;
};

/* Empty buffer bounded by max bytes (0: WD_RENDER_MAX_DEFAULT). Allocates
 * nothing. */
void wd_render_buf_init(struct wd_render_buf *b, size_t max);

/* Frees data; the buffer is then empty and may be reused. */
void wd_render_buf_destroy(struct wd_render_buf *b);

/* Empties the buffer, keeping its memory. */
void wd_render_buf_reset(struct wd_render_buf *b);

/* Room for `more` bytes and the NUL after len. WD_EFULL: len + more would
 * pass max; WD_ENOMEM. The buffer is unchanged on error. */
enum wd_status wd_render_buf_reserve(struct wd_render_buf *b, size_t more) WD_MUST_USE;

/* Appends n bytes of s (put) or formatted text (putf, vputf), keeping the
 * data NUL-terminated. On error (those of reserve; WD_EINVAL for a format
 * vsnprintf refuses) nothing is appended. */
enum wd_status wd_render_buf_put(struct wd_render_buf *b, const char *s, size_t n) WD_MUST_USE;
enum wd_status wd_render_buf_putf(struct wd_render_buf *b, const char *fmt, ...)
    WD_PRINTF(2, 3) WD_MUST_USE;
enum wd_status wd_render_buf_vputf(struct wd_render_buf *b, const char *fmt, va_list ap)
    WD_PRINTF(2, 0) WD_MUST_USE;

/* ---- renderers -------------------------------------------------------------
 *
 * All share one signature and these rules:
 *   - inc is the record, entries[0..n) its timeline in order (entries may be
 *     NULL when n is 0); every entry must belong to inc (its incident field
 *     is inc->id), else WD_EINVAL;
 *   - now_ns is the time of rendering: it dates what is still running (the
 *     duration of an unresolved incident, the next update, "as of");
 *   - tz is the session's zone for local times (NULL: UTC). The report, log
 *     and review write times in it with the offset shown ("UTC-05:00"); the
 *     messages always write UTC, as the playbook's template does;
 *   - the text is appended to out. WD_ENOMEM or WD_EFULL (out->max reached)
 *     leave out as it was before the call.
 */

/* The Step 5 incident report, markdown: Summary, Timeline, Root Cause,
 * Resolution, Action Items. */
enum wd_status wd_render_report(const struct wd_incident *inc,
                                const struct wd_timeline_entry *entries, size_t n,
                                int64_t now_ns, const struct wd_tz *tz,
                                struct wd_render_buf *out) WD_MUST_USE;

/* The Appendix incident log, text: INCIDENT LOG, TIMELINE, ACTIONS TAKEN,
 * IMPACT, ROOT CAUSE, LESSONS LEARNED, ACTION ITEMS. The adapter rewrites
 * the file with it at open and after each change (see wd_render_log_name). */
enum wd_status wd_render_log(const struct wd_incident *inc,
                             const struct wd_timeline_entry *entries, size_t n,
                             int64_t now_ns, const struct wd_tz *tz,
                             struct wd_render_buf *out) WD_MUST_USE;

/* The post-incident review document, markdown (the playbook's agenda
 * template), with its deadline and the follow-up meeting. */
enum wd_status wd_render_review(const struct wd_incident *inc,
                                const struct wd_timeline_entry *entries, size_t n,
                                int64_t now_ns, const struct wd_tz *tz,
                                struct wd_render_buf *out) WD_MUST_USE;

/* The "Initial Incident Notification" Slack message. */
enum wd_status wd_render_msg_initial(const struct wd_incident *inc,
                                     const struct wd_timeline_entry *entries, size_t n,
                                     int64_t now_ns, const struct wd_tz *tz,
                                     struct wd_render_buf *out) WD_MUST_USE;

/* The "Status Update" message, with the next update time
 * (wd_render_next_update_ns). */
enum wd_status wd_render_msg_update(const struct wd_incident *inc,
                                    const struct wd_timeline_entry *entries, size_t n,
                                    int64_t now_ns, const struct wd_tz *tz,
                                    struct wd_render_buf *out) WD_MUST_USE;

/* The "Resolution Notification" message. WD_ESTATE while the incident is
 * not resolved (nor closed). */
enum wd_status wd_render_msg_resolution(const struct wd_incident *inc,
                                        const struct wd_timeline_entry *entries, size_t n,
                                        int64_t now_ns, const struct wd_tz *tz,
                                        struct wd_render_buf *out) WD_MUST_USE;

/* For `warden incident message ID --kind initial|update|resolution`. */
enum wd_msg_kind { WD_MSG_INITIAL = 0, WD_MSG_UPDATE, WD_MSG_RESOLUTION, WD_MSG__COUNT };

/* "initial", "update", "resolution"; static ("?" out of range). */
const char *wd_msg_kind_name(enum wd_msg_kind k);
enum wd_status wd_msg_kind_parse(const char *s, enum wd_msg_kind *out) WD_MUST_USE;

/* Calls the renderer of kind k (WD_EINVAL for a kind out of range). */
enum wd_status wd_render_message(enum wd_msg_kind k, const struct wd_incident *inc,
                                 const struct wd_timeline_entry *entries, size_t n,
                                 int64_t now_ns, const struct wd_tz *tz,
                                 struct wd_render_buf *out) WD_MUST_USE;

/* ---- file names, update cadence, review deadlines -------------------------- */

/* Writes "logs/incident_YYYYMMDD_HHMMSS.log" for the incident's open time in
 * the session zone tz (NULL: UTC): the playbook names it with `date`, the
 * local time, and the incident id's date is the session's local date too.
 * Returns the length (like snprintf: >= cap means cut); cap 48 is enough. */
size_t wd_render_log_name(const struct wd_incident *inc, const struct wd_tz *tz, char *buf,
                          size_t cap);

/* How often status updates go out: P0 every 30 minutes (playbook Step 3);
 * the playbook sets no cadence for the others, warden uses P1 1 hour,
 * P2 4 hours, P3 24 hours (docs/INCIDENT-DOCUMENTS.md says why). */
int64_t wd_update_interval_ns(enum wd_severity s);

/* When the next status update is due after one sent at now_ns:
 * now_ns + the interval of the current severity. 0 when the incident is
 * resolved or closed (the resolution message is the last one). */
int64_t wd_render_next_update_ns(const struct wd_incident *inc, int64_t now_ns);

#define WD_REVIEW_DEADLINE_NS (48LL * 3600 * 1000000000LL)
#define WD_FOLLOWUP_AFTER_NS (14LL * 86400 * 1000000000LL)

/* The post-incident review's state at now_ns. The record's close marks the
 * review as held (an incident is closed after its review). */
struct wd_review_due {
    bool review_needed;      /* resolved, not closed: the review is still to hold */
    int64_t review_due_ns;   /* resolved_ns + 48 h; 0 when not resolved */
    bool review_overdue;     /* review_needed and now_ns > review_due_ns */
    int64_t followup_due_ns; /* closed_ns + 2 weeks; 0 when not closed */
    uint32_t open_actions;   /* action items not done */
    bool followup_due;       /* closed, now_ns >= followup_due_ns, open_actions > 0 */
};

/* Fills *out. Boundaries: a review held exactly 48 h after resolution is
 * on time, one nanosecond later overdue (as the SLA); the follow-up is due
 * from the instant two weeks after the close on, for as long as an action
 * item is open (with none open there is nothing left to follow up). */
void wd_review_due(const struct wd_incident *inc, int64_t now_ns, struct wd_review_due *out);

#endif /* WD_CORE_RENDER_H */
