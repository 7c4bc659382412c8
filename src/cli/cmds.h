/*
 * Subcommand entry points. Each takes argv with argv[0] = the subcommand
 * name and returns the process exit code.
 */
#ifndef WD_CLI_CMDS_H
#define WD_CLI_CMDS_H

#include <stddef.h>
#include <stdint.h>

int cmd_positions(int argc, char **argv);
int cmd_pnl(int argc, char **argv);
int cmd_drawdown(int argc, char **argv);
int cmd_replay(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_halt(int argc, char **argv);
int cmd_resume(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_config(int argc, char **argv);
int cmd_flatten(int argc, char **argv);
int cmd_audit(int argc, char **argv);
int cmd_incident(int argc, char **argv);
int cmd_evidence(int argc, char **argv);
int cmd_gaps(int argc, char **argv);
int cmd_rejects(int argc, char **argv);
int cmd_exposure(int argc, char **argv);
int cmd_latency(int argc, char **argv);
int cmd_oncall(int argc, char **argv);
int cmd_silence(int argc, char **argv);
int cmd_kafka(int argc, char **argv);

/* The on-call zone: oncall.tz, else session.tz (src/cli/cmd_oncall.c). */
struct wd_config;
struct wd_tz;
int cli_oncall_tz(const struct wd_config *cfg, struct wd_tz **tz);

/* The daemon's on-call step, each tick: escalates every open incident down
 * the chain (svc/oncall.h, once per level). t caches the on-call zone
 * (start from {0}; cli_oncall_ticker_destroy at exit). *paged the levels
 * newly reached; CLI_FAIL with msg (cap bytes) on a failure. */
struct cli_oncall_ticker {
    struct wd_tz *tz;
    char name[64];
};
struct wd_store;
int cli_oncall_tick(struct cli_oncall_ticker *t, struct wd_store *store,
                    const struct wd_config *cfg, const struct wd_tz *session_tz, int64_t now_ns,
                    uint32_t *paged, char *msg, size_t cap);
void cli_oncall_ticker_destroy(struct cli_oncall_ticker *t);
/* The on-call zone (oncall.tz, loaded once and again when a reload names
 * another; the session's when none is set): NULL with msg when it cannot
 * be loaded. Valid until the next call or the ticker's destruction. */
const struct wd_tz *cli_oncall_ticker_tz(struct cli_oncall_ticker *t, const struct wd_config *cfg,
                                         const struct wd_tz *session_tz, char *msg, size_t cap);

#endif /* WD_CLI_CMDS_H */
