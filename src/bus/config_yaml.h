/*
 * Loading warden's YAML configuration (SPEC section 8) with libyaml.
 *
 * This adapter reads a file or a buffer, checks every key against the schema
 * and overlays the values on a struct wd_config that wd_config_init already
 * filled with the defaults. It reports every problem it finds, each with its
 * 1-based line and column, and changes nothing unless the whole file is
 * valid. It must not print, log, read the clock or keep state between calls,
 * and must never echo a secret (token, HMAC key) into a message. The only
 * files it opens are the configuration file, the token_file entries it
 * names, and the zone file of session.tz (to check that the zone exists).
 * The rules for every key are listed in docs/CONFIGURATION.md.
 */
#ifndef WD_BUS_CONFIG_YAML_H
#define WD_BUS_CONFIG_YAML_H

#include <stddef.h>
#include <stdint.h>

#include "warden/config.h"
#include "warden/status.h"

/* Largest configuration file (or buffer) accepted. */
#define WD_CONFIG_FILE_MAX (1024u * 1024u)
/* Largest token_file accepted. */
#define WD_CONFIG_TOKEN_FILE_MAX 4096u
/* Shortest bearer token accepted: a shorter one is guessable. */
#define WD_CONFIG_TOKEN_MIN 16u
/* Problems recorded per load; past this one last entry says more were found. */
#define WD_CONFIG_MAX_PROBLEMS 200u

/* One problem in a configuration file. line and column are 1-based, from
 * libyaml's marks; both are 0 when the problem concerns the whole file
 * (it cannot be read, or it is too large). msg starts with the key path
 * ("limits.max_dd: expected a number between 0 and 1, got \"abc\"") except
 * for file-level problems and unknown top-level keys. */
struct wd_config_problem {
    uint64_t line, column;
    char msg[256];
};

/* Caller-owned list of problems; start from {0}. items is from malloc() and
 * freed by wd_config_report_free. */
struct wd_config_report {
    struct wd_config_problem *items;
    size_t n, cap;
};

/* Frees rep->items and zeroes rep. NULL is a no-op. */
void wd_config_report_free(struct wd_config_report *rep);

/* Reads the file at path (at most WD_CONFIG_FILE_MAX bytes) and overlays it on
 * cfg, which must have been set up with wd_config_init (and may already hold
 * an earlier overlay). Relative token_file paths are resolved against the
 * directory of path. See wd_config_load_buffer for the rest of the contract.
 *   WD_EIO     the file cannot be read (one problem with line 0 says why);
 *   WD_EINVAL  problems in the file, or it is larger than WD_CONFIG_FILE_MAX;
 *   others     as for wd_config_load_buffer. */
enum wd_status wd_config_load_file(const char *path, struct wd_config *cfg,
                                   struct wd_config_report *rep) WD_MUST_USE;

/* Parses len bytes of YAML at data (need not be NUL-terminated; NULL counts
 * as empty) and overlays them on cfg: a key that is present replaces the
 * value in cfg (a list or map such as limits.symbols or accounts replaces it
 * whole); a key that is absent leaves it alone. A key given as null (`store:`
 * with nothing after it) counts as an empty section or list; for a single
 * value it is a problem. An input larger than WD_CONFIG_FILE_MAX is one
 * problem (line 0), WD_EINVAL.
 *
 * name_for_messages (may be NULL) names the input in file-level messages, and
 * relative token_file paths are resolved against its directory part (the
 * current directory when it has none).
 *
 * Every problem found is appended to rep (if non-NULL), sorted by line and
 * column among those this call added. A YAML syntax error stops the parse, so
 * it is the only problem reported for that input.
 *   WD_OK      cfg updated;
 *   WD_EINVAL  at least one problem; cfg is exactly as it was given;
 *   WD_ENOMEM  out of memory; cfg is exactly as it was given. */
enum wd_status wd_config_load_buffer(const char *data, size_t len, const char *name_for_messages,
                                     struct wd_config *cfg,
                                     struct wd_config_report *rep) WD_MUST_USE;

#endif /* WD_BUS_CONFIG_YAML_H */
