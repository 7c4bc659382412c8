/*
 * `warden config check FILE`: validates a configuration file and reports
 * every problem with its line and column, without running anything. The
 * same loader is what every other command (and a SIGHUP reload, later)
 * uses, so a file that passes here is accepted there.
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/cmds.h"

static const char usage_text[] =
    "Usage: warden config check FILE\n"
    "\n"
    "Validates a YAML configuration (SPEC section 8): every key, type, range\n"
    "and cross-field rule. Every problem is printed as FILE:LINE:COLUMN: message.\n"
    "Exit status: 0 valid, 2 invalid or unreadable.\n";

int cmd_config(int argc, char **argv)
{
    if (argc >= 2 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
        fputs(usage_text, stdout);
        return CLI_OK;
    }
    if (argc != 3 || strcmp(argv[1], "check") != 0) {
        fputs(usage_text, stderr);
        return CLI_USAGE;
    }
    struct wd_config cfg;
    int rc = cli_config_load(&cfg, argv[2]);
    if (rc == CLI_OK) {
        struct wd_tz *tz = NULL;
        rc = cli_tz_load(&cfg, &tz);
        wd_tz_free(tz);
    }
    if (rc == CLI_OK) {
        printf("%s: valid\n", argv[2]);
    }
    wd_config_destroy(&cfg);
    return rc == CLI_OK ? CLI_OK : CLI_USAGE;
}
