/* Helpers shared by the service layer's files (svc.h). */
#include <stdio.h>

#include "svc/svc.h"

enum wd_svc_code wd__svc_set(struct wd_svc_result *res, enum wd_svc_code code, const char *fmt,
                             ...)
{
    if (res != NULL) {
        va_list ap;
        va_start(ap, fmt);
        res->code = code;
        vsnprintf(res->msg, sizeof res->msg, fmt, ap);
        va_end(ap);
    }
    return code;
}
