#!/usr/bin/env bash
# A throwaway PostgreSQL server for the tests of `nablanet tune` (tests/pipeline/test_tune*.py).
#
#   .ci/start-postgres.sh start DIR   initdb in DIR/data, start it on 127.0.0.1 on a free port,
#                                     create database nablanet_test; prints its URL
#                                     (postgresql://postgres@127.0.0.1:PORT/nablanet_test)
#   .ci/start-postgres.sh stop DIR    stop it (fast shutdown)
#
# Trust authentication, TCP on 127.0.0.1 only, no unix socket outside DIR: for tests, never for
# data anyone keeps. The server refuses to run as root, so as root every command runs as the
# `postgres` system user (which then owns DIR).
set -euo pipefail
action=${1:?usage: $0 start|stop DIR}
dir=${2:?usage: $0 start|stop DIR}

bindir=""
if ! command -v initdb >/dev/null 2>&1; then
  bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  [ -n "$bindir" ] || { echo "start-postgres: initdb not found (install postgresql)" >&2; exit 1; }
  bindir="$bindir/"
fi
as_pg() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case "$action" in
  start)
    mkdir -p "$dir"
    [ "$(id -u)" = 0 ] && chown postgres: "$dir"
    port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    as_pg "${bindir}initdb" -D "$dir/data" -U postgres -A trust --no-sync -E UTF8 >"$dir/initdb.log" 2>&1 \
      || { cat "$dir/initdb.log" >&2; exit 1; }
    as_pg "${bindir}pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 \
      -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off -c max_connections=200" start >/dev/null \
      || { cat "$dir/server.log" >&2; exit 1; }
    as_pg "${bindir}createdb" -h 127.0.0.1 -p "$port" -U postgres nablanet_test
    echo "$port" >"$dir/port"
    echo "postgresql://postgres@127.0.0.1:$port/nablanet_test"
    ;;
  stop)
    [ -d "$dir/data" ] && as_pg "${bindir}pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null || true
    ;;
  *)
    echo "usage: $0 start|stop DIR" >&2
    exit 2
    ;;
esac
