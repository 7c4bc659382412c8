/*
 * String interning (see include/warden/intern.h). Pure: allocates through
 * malloc/realloc only when a new name arrives.
 */
#include <stdlib.h>
#include <string.h>

#include "warden/intern.h"

#include "util.h"

enum wd_status wd_intern_init(struct wd_intern *t, uint32_t max_names)
{
    memset(t, 0, sizeof *t);
    if (max_names == 0 || max_names > (1u << 24)) {
        return WD_EINVAL;
    }
    t->max_names = max_names;
    t->slot_mask = 63;
    t->slots = calloc(t->slot_mask + 1u, sizeof *t->slots);
    if (t->slots == NULL) {
        return WD_ENOMEM;
    }
    return WD_OK;
}

void wd_intern_destroy(struct wd_intern *t)
{
    free(t->slots);
    free(t->entries);
    free(t->arena);
    memset(t, 0, sizeof *t);
}

static uint32_t probe(const struct wd_intern *t, const char *name, size_t len, uint32_t h,
                      uint32_t *found)
{
    uint32_t i = h & t->slot_mask;
    for (;;) {
        uint32_t v = t->slots[i];
        if (v == 0) {
            *found = WD_INTERN_NONE_;
            return i;
        }
        const struct wd_intern_entry *e = &t->entries[v - 1u];
        if (e->hash == h && e->len == len && memcmp(t->arena + e->off, name, len) == 0) {
            *found = v - 1u;
            return i;
        }
        i = (i + 1u) & t->slot_mask;
    }
}

enum wd_status wd_intern_find(const struct wd_intern *t, const char *name, size_t len,
                              uint32_t *id)
{
    uint32_t found;
    if (len == 0 || len > WD_INTERN_NAME_MAX) {
        return WD_ENOTFOUND;
    }
    (void)probe(t, name, len, wd__fnv1a(name, len), &found);
    if (found == WD_INTERN_NONE_) {
        return WD_ENOTFOUND;
    }
    *id = found;
    return WD_OK;
}

static enum wd_status grow_slots(struct wd_intern *t)
{
    uint32_t ncap = (t->slot_mask + 1u) * 2u;
    uint32_t *ns = calloc(ncap, sizeof *ns);
    if (ns == NULL) {
        return WD_ENOMEM;
    }
    for (uint32_t id = 0; id < t->count; id++) {
        uint32_t i = t->entries[id].hash & (ncap - 1u);
        while (ns[i] != 0) {
            i = (i + 1u) & (ncap - 1u);
        }
        ns[i] = id + 1u;
    }
    free(t->slots);
    t->slots = ns;
    t->slot_mask = ncap - 1u;
    return WD_OK;
}

enum wd_status wd_intern_get(struct wd_intern *t, const char *name, size_t len, uint32_t *id)
{
    uint32_t found;
    if (len == 0 || len > WD_INTERN_NAME_MAX) {
        return WD_EINVAL;
    }
    uint32_t h = wd__fnv1a(name, len);
    uint32_t slot = probe(t, name, len, h, &found);
    if (found != WD_INTERN_NONE_) {
        *id = found;
        return WD_OK;
    }
    if (t->count >= t->max_names) {
        return WD_EFULL;
    }
    /* Keep the load factor at or below one half, growing before insertion
     * so that a failed allocation leaves the table unchanged. */
    if ((uint64_t)(t->count + 1u) * 2u > t->slot_mask + 1u) {
        enum wd_status st = grow_slots(t);
        if (st != WD_OK) {
            return st;
        }
        slot = probe(t, name, len, h, &found);
    }
    if (t->count == t->cap) {
        uint32_t ncap = t->cap ? t->cap * 2u : 16u;
        struct wd_intern_entry *ne = realloc(t->entries, ncap * sizeof *ne);
        if (ne == NULL) {
            return WD_ENOMEM;
        }
        t->entries = ne;
        t->cap = ncap;
    }
    if (t->arena_len + len + 1u > t->arena_cap) {
        size_t ncap = t->arena_cap ? t->arena_cap * 2u : 1024u;
        while (ncap < t->arena_len + len + 1u) {
            ncap *= 2u;
        }
        char *na = realloc(t->arena, ncap);
        if (na == NULL) {
            return WD_ENOMEM;
        }
        t->arena = na;
        t->arena_cap = ncap;
    }
    memcpy(t->arena + t->arena_len, name, len);
    t->arena[t->arena_len + len] = '\0';
    t->entries[t->count] = (struct wd_intern_entry){
        .off = (uint32_t)t->arena_len, .len = (uint32_t)len, .hash = h};
    t->arena_len += len + 1u;
    t->slots[slot] = t->count + 1u;
    *id = t->count++;
    return WD_OK;
}

const char *wd_intern_name(const struct wd_intern *t, uint32_t id)
{
    if (id >= t->count) {
        return "";
    }
    return t->arena + t->entries[id].off;
}
