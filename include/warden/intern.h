/*
 * String interning: maps short names (symbols, accounts) to dense ids
 * 0, 1, 2, ... so the hot path compares integers, not strings.
 *
 * Open addressing with linear probing over a power-of-two table; names are
 * copied once into an arena the table owns. The number of names is bounded
 * (max_names at init): past it, wd_intern_get returns WD_EFULL. Allocation
 * happens only when a new name arrives, never for a known one.
 */
#ifndef WD_CORE_INTERN_H
#define WD_CORE_INTERN_H

#include <stddef.h>
#include <stdint.h>

#include "warden/status.h"

#define WD_INTERN_NAME_MAX 64 /* longest accepted name, bytes */
#define WD_INTERN_NONE_ UINT32_MAX /* internal: "not present" */

struct wd_intern_entry {
    uint32_t off;  /* offset of the name in the arena */
    uint32_t len;
    uint32_t hash;
};

struct wd_intern {
    uint32_t *slots;                 /* owned: id + 1, 0 = empty */
    uint32_t slot_mask;
    struct wd_intern_entry *entries; /* owned: indexed by id */
    uint32_t count, cap, max_names;
    char *arena;                     /* owned: NUL-terminated names */
    size_t arena_len, arena_cap;
};

/* Caller-owned storage; max_names >= 1. */
enum wd_status wd_intern_init(struct wd_intern *t, uint32_t max_names) WD_MUST_USE;
void wd_intern_destroy(struct wd_intern *t);

/* Id of name, adding it if new. WD_EINVAL: empty or longer than
 * WD_INTERN_NAME_MAX. WD_EFULL: max_names reached. WD_ENOMEM. */
enum wd_status wd_intern_get(struct wd_intern *t, const char *name, size_t len,
                             uint32_t *id) WD_MUST_USE;

/* Id of name if known; WD_ENOTFOUND otherwise. Never adds. */
enum wd_status wd_intern_find(const struct wd_intern *t, const char *name, size_t len,
                              uint32_t *id) WD_MUST_USE;

/* The NUL-terminated name of id (< count); owned by t, valid until destroy. */
const char *wd_intern_name(const struct wd_intern *t, uint32_t id);

static inline uint32_t wd_intern_count(const struct wd_intern *t) { return t->count; }

#endif /* WD_CORE_INTERN_H */
