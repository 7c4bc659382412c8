/*
 * jsmn (Debian's libjsmn-dev), header-only, compiled static and strict into
 * each file that includes this: the decoder, the API's request bodies and
 * the CLI's reading of API answers. Its code is not written for our warning
 * set, so those warnings are off for it alone.
 */
#ifndef WD_CORE_JSMN_STRICT_H
#define WD_CORE_JSMN_STRICT_H

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wconversion"
#pragma GCC diagnostic ignored "-Wsign-conversion"
#pragma GCC diagnostic ignored "-Wnull-dereference"
#define JSMN_STATIC
#define JSMN_STRICT
#include <jsmn.h>
#pragma GCC diagnostic pop

#endif /* WD_CORE_JSMN_STRICT_H */
