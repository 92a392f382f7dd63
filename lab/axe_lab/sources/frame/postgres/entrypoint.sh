#!/bin/sh
# frame's postgres: initialised once on the (external) volume with FRAME_DB_PASSWORD, then run.
set -eu
PGDATA=/var/lib/postgresql/data
BIN=/usr/lib/postgresql/15/bin
mkdir -p "$PGDATA" /run/postgresql
chown postgres:postgres "$PGDATA" /run/postgresql
chmod 700 "$PGDATA"
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  : "${FRAME_DB_PASSWORD:?FRAME_DB_PASSWORD is not set (.env.local)}"
  umask 077
  printf '%s' "$FRAME_DB_PASSWORD" > /run/postgresql/pw
  chown postgres /run/postgresql/pw
  setpriv --reuid=postgres --regid=postgres --init-groups \
    "$BIN/initdb" -D "$PGDATA" -U frame --pwfile=/run/postgresql/pw -A scram-sha-256 --encoding=UTF8 --no-locale \
    --no-instructions >/dev/null
  rm -f /run/postgresql/pw
  echo "host all all 0.0.0.0/0 scram-sha-256" >> "$PGDATA/pg_hba.conf"
fi
exec setpriv --reuid=postgres --regid=postgres --init-groups \
  "$BIN/postgres" -D "$PGDATA" -c listen_addresses='*' -c jit=off -c shared_buffers=16MB
