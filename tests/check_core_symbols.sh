#!/bin/sh
# Keeps the core pure: lists the undefined symbols of libwarden_core.a
# (`nm -u`) and fails on any symbol not in the allow-list below. I/O,
# clocks, environment, randomness, sockets and processes are never allowed:
# time and data come in as arguments.
#
# usage: check_core_symbols.sh path/to/libwarden_core.a
set -eu
lib=$1
[ -f "$lib" ] || { echo "no such library: $lib" >&2; exit 2; }

allowed='
abort
calloc
free
malloc
realloc
memchr
memcmp
memcpy
memmove
memset
strchr
strcmp
strlen
strncmp
strtod
snprintf
vsnprintf
qsort
bsearch
sqrt
exp
log
log1p
expm1
erf
erfc
pow
round
floor
ceil
fabs
isfinite
__assert_fail
__stack_chk_fail
__isoc99_sscanf
'

# Symbols defined by the archive's own members are internal references.
defined=$(nm -g --defined-only "$lib" 2>/dev/null | awk 'NF == 3 {print $3}' | sort -u)
undefined=$(nm -u "$lib" 2>/dev/null | awk 'NF == 2 {print $2}' | sed 's/@.*//' | sort -u)
bad=$(printf '%s\n' "$undefined" | grep -v -x -F "$defined" |
    grep -v -E '^$|^(__asan_|__ubsan_|__sanitizer_|__lsan_|__sancov_|_GLOBAL_OFFSET_TABLE_)' |
    grep -v -E '^__(u?(div|mod|divmod)ti[34]|float(un)?tidf|fix(uns)?dfti|muloti4)$' |
    while read -r sym; do
        if ! printf '%s\n' "$allowed" | grep -qx "$sym"; then
            echo "$sym"
        fi
    done)

if [ -n "$bad" ]; then
    echo "core library $lib references symbols outside the allow-list:" >&2
    printf '  %s\n' $bad >&2
    echo "the core must not do I/O or read the clock; move this to an adapter" >&2
    exit 1
fi
echo "core library is pure: every undefined symbol is allowed"
