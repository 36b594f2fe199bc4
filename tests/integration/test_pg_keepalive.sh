#!/bin/bash
# test_pg_keepalive.sh -- the PostgreSQL store's connection fails instead of
# hanging when the network dies under it (pg_url.h ib_pg_connect): its
# socket has TCP keepalives armed after 60 s of silence, where the system
# default waits two hours. Seen on a real connection: a sync whose Jira
# source hangs (a loopback server that accepts and never answers) holds
# its store connection idle; the kernel's table of TCP sockets
# (/proc/net/tcp) then shows that socket's keepalive timer. Fails (never
# skips) when PostgreSQL cannot start. Writes only in its temp dir and the
# throwaway server.
set -euo pipefail

: "${IB_BIN:?}" "${IB_PLUGIN_DIR:?}" "${IB_SOURCE_DIR:?}"
# shellcheck source=../support/pg_server.sh
source "$IB_SOURCE_DIR/tests/support/pg_server.sh"
fail() { echo "FAIL: $*" >&2; exit 1; }

pids=()
stop_children() {
  local p
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
}
pg_server_session
trap 'stop_children; pg_server_stop; rm -rf "$work"' EXIT
"$PG_BIN/psql" -X -q -c "CREATE DATABASE ka" postgres

# A server that accepts and never answers: the Jira source waits on it.
/usr/bin/python3 - "$work/port" <<'PY' &
import socket, sys, time
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(8)
open(sys.argv[1] + ".tmp", "w").write(str(s.getsockname()[1]))
__import__("os").rename(sys.argv[1] + ".tmp", sys.argv[1])
held = []
while True:
    c, _ = s.accept()
    held.append(c)
PY
pids+=($!)
for _ in $(seq 100); do [ -s "$work/port" ] && break; sleep 0.1; done
[ -s "$work/port" ] || fail "the silent server did not start"
silent=$(cat "$work/port")

cat >"$work/bridge.cfg" <<CFG
store = { url = "postgresql://$PGUSER@127.0.0.1:$PGPORT/ka"; };
sources = ( { name = "jira"; plugin = "jira"; url = "http://127.0.0.1:$silent";
    api = "cloud"; jql = "project = KA"; auth = { type = "bearer"; token_env = "IB_KA_TOKEN"; };
    priorities = ( ("High", "P1") ); } );
CFG
IB_KA_TOKEN=t "$IB_BIN" -c "$work/bridge.cfg" --plugin-dir "$IB_PLUGIN_DIR" sync \
  >"$work/sync.out" 2>&1 &
sync_pid=$!
pids+=("$sync_pid")

# The sync's own sockets (its fds), then their line in /proc/net/tcp whose
# remote port is the server's: "tr" 02 is the keepalive timer, "tm->when"
# what is left of it in hundredths of a second.
port_hex=$(printf '%04X' "$PGPORT")
timer=""
for _ in $(seq 100); do
  inodes=$(ls -l "/proc/$sync_pid/fd" 2>/dev/null | sed -n 's/.*socket:\[\([0-9]*\)\]/\1/p')
  for ino in $inodes; do
    line=$(awk -v ino="$ino" -v port=":$port_hex" \
      '$10 == ino && substr($3, length($3) - 4) == port { print $6 }' /proc/net/tcp)
    [ -n "$line" ] && timer=$line
  done
  [ -n "$timer" ] && grep -q '^02:' <<<"$timer" && break
  sleep 0.1
done
kill -0 "$sync_pid" 2>/dev/null || fail "the sync ended before it could be looked at: $(cat "$work/sync.out")"
[ -n "$timer" ] || fail "no TCP connection from the sync to PostgreSQL found"
grep -q '^02:' <<<"$timer" || fail "the store connection has no keepalive timer ($timer)"
left=$((16#${timer#02:}))
((left <= 6000)) ||
  fail "the keepalive fires in $((left / 100)) s, not within 60 s (system default?)"
echo "ok: store connection keepalive armed, due in $((left / 100)) s"
