# shellcheck shell=bash
# pg_server.sh -- starts a throwaway PostgreSQL server for the tests (source
# it, then pg_server_start; pg_server_stop in your EXIT trap). Initdb in a
# temporary directory, loopback TCP on a free port, password auth. Must not
# touch any cluster of the machine, nor skip: a server that cannot start is
# a test failure.
#
# After pg_server_start:
#   PG_BIN        the server's binaries (initdb, pg_ctl, psql)
#   PGHOST PGPORT PGUSER PGDATABASE   for psql and libpq (TCP 127.0.0.1)
#   PG_TEST_PASSWORD  the superuser's password (give it as PGPASSWORD)
#   PG_URL        postgresql://USER@127.0.0.1:PORT/DB (no password in it)

pg_server_find_bin() {
  if [ -n "${PG_BIN:-}" ] && [ -x "$PG_BIN/initdb" ]; then return 0; fi
  PG_BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  if [ -z "$PG_BIN" ] || [ ! -x "$PG_BIN/initdb" ]; then
    echo "pg_server: no PostgreSQL server found in /usr/lib/postgresql/*/bin;" \
      "install Debian's 'postgresql' package (scripts/setup.sh)" >&2
    return 1
  fi
}

# Runs a server binary as the server's owner: initdb and postgres refuse
# root, and CI runs as root.
pg_server_as_owner() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u "$PG_SERVER_OWNER" -- "$@"
  else
    "$@"
  fi
}

pg_server_free_port() {
  /usr/bin/python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()'
}

pg_server_start() {
  pg_server_find_bin || return 1
  PG_SERVER_OWNER=$(id -un)
  if [ "$(id -u)" -eq 0 ]; then
    PG_SERVER_OWNER=${PG_SERVER_USER:-postgres}
    if ! id -u "$PG_SERVER_OWNER" >/dev/null 2>&1; then
      echo "pg_server: running as root needs a non-root user to own the test" \
        "server; user '$PG_SERVER_OWNER' does not exist (set PG_SERVER_USER)" >&2
      return 1
    fi
  fi
  PG_SERVER_DIR=$(mktemp -d "${TMPDIR:-/tmp}/ib-pg.XXXXXX") || return 1
  chmod 0755 "$PG_SERVER_DIR"
  PG_TEST_PASSWORD="ib-test-$$-$RANDOM"
  printf '%s\n' "$PG_TEST_PASSWORD" >"$PG_SERVER_DIR/pwfile"
  chmod 0600 "$PG_SERVER_DIR/pwfile"
  if [ "$(id -u)" -eq 0 ]; then chown -R "$PG_SERVER_OWNER" "$PG_SERVER_DIR"; fi

  if ! pg_server_as_owner "$PG_BIN/initdb" -D "$PG_SERVER_DIR/data" -U itsm \
    --pwfile="$PG_SERVER_DIR/pwfile" --auth-local=trust \
    --auth-host=scram-sha-256 -E UTF8 --no-locale --no-sync \
    >"$PG_SERVER_DIR/initdb.log" 2>&1; then
    echo "pg_server: initdb failed:" >&2
    tail -n 20 "$PG_SERVER_DIR/initdb.log" >&2
    return 1
  fi
  rm -f "$PG_SERVER_DIR/pwfile"

  for _ in 1 2 3; do  # a port taken meanwhile: try another
    PGPORT=$(pg_server_free_port) || return 1
    if pg_server_as_owner "$PG_BIN/pg_ctl" -D "$PG_SERVER_DIR/data" \
      -l "$PG_SERVER_DIR/server.log" -w -t 60 \
      -o "-k $PG_SERVER_DIR -p $PGPORT -c listen_addresses=127.0.0.1 -c fsync=off" \
      start >/dev/null 2>&1; then
      PG_SERVER_RUNNING=1
      break
    fi
  done
  if [ -z "${PG_SERVER_RUNNING:-}" ]; then
    echo "pg_server: the server did not start (log: $PG_SERVER_DIR/server.log):" >&2
    tail -n 20 "$PG_SERVER_DIR/server.log" >&2 2>/dev/null
    return 1
  fi
  export PGHOST=127.0.0.1 PGPORT PGUSER=itsm PGDATABASE=postgres
  export PG_URL="postgresql://itsm@127.0.0.1:$PGPORT/postgres"
  export PG_BIN PG_TEST_PASSWORD
}

pg_server_stop() {
  if [ -n "${PG_SERVER_RUNNING:-}" ]; then
    pg_server_as_owner "$PG_BIN/pg_ctl" -D "$PG_SERVER_DIR/data" -m immediate \
      stop >/dev/null 2>&1 || true
    PG_SERVER_RUNNING=
  fi
  if [ -n "${PG_SERVER_DIR:-}" ] && [ -d "$PG_SERVER_DIR" ]; then
    rm -rf "$PG_SERVER_DIR"
  fi
  PG_SERVER_DIR=
}

# pg_server_session: what a test that needs nothing more at exit starts
# with: a temporary directory in $work, removed at exit with the server;
# the server started (or the test fails, never skips); libpq pointed at it
# with the superuser's password and never the caller's ~/.pgpass.
pg_server_session() {
  work=$(mktemp -d)
  trap 'pg_server_stop; rm -rf "$work"' EXIT
  pg_server_start || {
    echo "FAIL: could not start a throwaway PostgreSQL server" >&2
    exit 1
  }
  export PGPASSFILE="$work/no-pgpass" PGPASSWORD=$PG_TEST_PASSWORD
}
