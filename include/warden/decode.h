/*
 * The event decoder: one JSON Lines line in, one struct wd_event out.
 *
 * Pure and allocation-free per line: the decoder owns a fixed token array
 * (allocated once by wd_decoder_new), numbers are parsed straight from the
 * token text into fixed point, and symbols and accounts are interned into
 * tables the caller owns. A line that is not a valid event (bad JSON, a
 * missing key, a wrong type, a negative quantity, an unknown side, a
 * non-finite number, a line over the size bound, ...) yields WD_EINVAL and a
 * reason in err->msg, and changes nothing: no name is interned for it.
 */
#ifndef WD_CORE_DECODE_H
#define WD_CORE_DECODE_H

#include <stddef.h>

#include "warden/event.h"
#include "warden/intern.h"
#include "warden/status.h"

#define WD_DECODE_MAX_LINE 8192  /* bytes, excluding the newline */
#define WD_DECODE_MAX_TOKENS 256 /* JSON tokens per line */

struct wd_decoder;

/* symbols and accounts are borrowed and must outlive the decoder.
 * "default" is interned into accounts here (it is the account of events
 * that name none). */
enum wd_status wd_decoder_new(struct wd_intern *symbols, struct wd_intern *accounts,
                              struct wd_decoder **out) WD_MUST_USE;
void wd_decoder_free(struct wd_decoder *d);

/* Decodes one line (without its newline; a trailing '\r' and surrounding
 * blanks are ignored). On WD_OK *ev is filled and its string fields point
 * into `line`. On failure *ev is unspecified, err->msg says why and
 * err->column where (1-based byte offset, 0 if not applicable).
 * WD_EINVAL: not a valid event. WD_EFULL: a name table is full (the event is
 * valid but cannot be tracked). WD_ENOMEM. */
enum wd_status wd_decode_line(struct wd_decoder *d, const char *line, size_t len,
                              struct wd_event *ev, struct wd_error *err) WD_MUST_USE;

/* The id of the "default" account. */
uint32_t wd_decoder_default_account(const struct wd_decoder *d);

#endif /* WD_CORE_DECODE_H */
