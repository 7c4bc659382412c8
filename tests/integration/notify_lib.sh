# Shared by the notification tests (notify.sh, notify_faults.sh) and
# bench/notify_bench.sh: daemon_lib.sh, then the loopback receivers
# (notify_receiver.py: HTTP + aiosmtpd), killed on exit. Sourced after
# `warden=` and `here=` (the directory of notify_receiver.py) are set;
# skips (77) without python3-aiosmtpd.
. "$here/daemon_lib.sh"
if ! /usr/bin/python3 -c 'import aiosmtpd' 2>/dev/null; then
    echo "SKIPPED: python3-aiosmtpd is not installed"
    exit 77
fi
rpid=
trap 'cleanup; [ -n "$rpid" ] && kill "$rpid" 2>/dev/null' EXIT

receiver() { # receiver ARGS...: starts it on rx.jsonl, sets $HP (HTTP) and $SP (SMTP)
    rm -f ports
    /usr/bin/python3 "$here/notify_receiver.py" rx.jsonl ports "$@" &
    rpid=$!
    wait_for ports . 100 || { bad "the receiver did not start"; finish notify; }
    read -r HP SP <ports
}
