/*
 * warden: the command-line front door. Dispatches to subcommands; the only
 * place (with the daemon) allowed to exit().
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/cmds.h"

#ifndef WARDEN_VERSION
#define WARDEN_VERSION "dev"
#endif

struct subcommand {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *summary;
};

static const struct subcommand subcommands[] = {
    {"positions", cmd_positions, "open positions, average cost, mark, unrealized PnL"},
    {"pnl", cmd_pnl, "equity, realized/unrealized/total PnL, daily PnL ratio"},
    {"drawdown", cmd_drawdown, "peak equity, drawdown and max drawdown"},
    {"replay", cmd_replay, "events through the gate and kill-switches: JSON decisions, controls, incidents"},
    {"run", cmd_run, "the daemon: follow stdin, a file or a unix socket; ticks, SIGHUP reload"},
    {"halt", cmd_halt, "halt a scope (emergency_halt); --reduce-only for REDUCE_ONLY"},
    {"resume", cmd_resume, "approve resuming a halted scope (Risk Officer; + CTO after a drawdown kill)"},
    {"status", cmd_status, "trading state per scope: why, since when, who can resume"},
    {"audit", cmd_audit, "every anomaly with its reason (audit_trades): rejects, P0-3, incidents, alerts"},
    {"gaps", cmd_gaps, "missing market data per symbol in trading hours (find_data_gaps)"},
    {"exposure", cmd_exposure, "gross, net and per-position exposure against box_lim and max_gross_exposure"},
    {"rejects", cmd_rejects, "rejection rate and top reasons, broker and gate (P1-3)"},
    {"latency", cmd_latency, "intent->ack latency p50/p95/p99/max per account (P2-1)"},
    {"flatten", cmd_flatten, "closing intents for open positions (--filter unauthorized) --confirm"},
    {"incident", cmd_incident, "incidents: list|show|open|ack|assign|status|note|check|approve|action|resolve|close"},
    {"evidence", cmd_evidence, "an incident's evidence as a .tar.gz: record, events, audit excerpt, config"},
    {"oncall", cmd_oncall, "who is on call now and next, the handoff checklist; test-page"},
    {"silence", cmd_silence, "silences: add|list|remove (hold back notifications, never a halt)"},
    {"kafka", cmd_kafka, "kafka lag: the consumer group's lag per partition (docs/KAFKA.md)"},
    {"config", cmd_config, "config check FILE: validate a configuration, every problem with its line"},
};

static void usage(FILE *out)
{
    fputs("warden - incident-response and kill-switch engine for automated trading\n"
          "\n"
          "Usage: warden COMMAND [OPTIONS]\n"
          "       warden COMMAND --help\n"
          "\n"
          "Commands:\n",
          out);
    for (size_t i = 0; i < sizeof subcommands / sizeof subcommands[0]; i++) {
        fprintf(out, "  %-11s %s\n", subcommands[i].name, subcommands[i].summary);
    }
    fputs("\n"
          "Events are JSON Lines (SPEC section 2): quote, trade, bar, intent, ack,\n"
          "fill, heartbeat, account, metric; ts as integer ns or RFC 3339.\n"
          "Every command takes --json for one machine-readable JSON object.\n"
          "\n"
          "Examples:\n"
          "  warden pnl --events examples/session.jsonl\n"
          "  warden pnl --date 2025-11-18 --json examples/session.jsonl\n"
          "  cat events.jsonl | warden positions\n"
          "\n"
          "Options:\n"
          "  -h, --help     this help\n"
          "  -V, --version  print the version\n"
          "\n"
          "Documentation: README.md and docs/ in the source tree.\n",
          out);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return CLI_USAGE;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "-h") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "help") == 0) {
        if (strcmp(cmd, "help") == 0 && argc > 2) {
            for (size_t i = 0; i < sizeof subcommands / sizeof subcommands[0]; i++) {
                if (strcmp(argv[2], subcommands[i].name) == 0) {
                    char *hargv[] = {argv[2], (char *)(uintptr_t)"--help", NULL};
                    return subcommands[i].fn(2, hargv);
                }
            }
        }
        usage(stdout);
        return CLI_OK;
    }
    if (strcmp(cmd, "-V") == 0 || strcmp(cmd, "--version") == 0) {
        printf("warden %s\n", WARDEN_VERSION);
        return CLI_OK;
    }
    for (size_t i = 0; i < sizeof subcommands / sizeof subcommands[0]; i++) {
        if (strcmp(cmd, subcommands[i].name) == 0) {
            return subcommands[i].fn(argc - 1, argv + 1);
        }
    }
    cli_errorf("unknown command '%s' (see 'warden --help')", cmd);
    return CLI_USAGE;
}
