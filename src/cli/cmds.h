/*
 * Subcommand entry points. Each takes argv with argv[0] = the subcommand
 * name and returns the process exit code.
 */
#ifndef WD_CLI_CMDS_H
#define WD_CLI_CMDS_H

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

#endif /* WD_CLI_CMDS_H */
