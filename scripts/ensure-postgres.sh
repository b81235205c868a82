#!/usr/bin/env bash
# Makes sure a PostgreSQL server answers on 127.0.0.1:5432 for the tests: installs it from
# Debian's packages when absent, starts it when stopped, and lets the `postgres` role sign in
# with password `postgres` over TCP (trust setups ignore the password).
set -euo pipefail
ready() { pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; }
# The Spanish-messages test (tests/api/hardening/db_error_codes.rs) needs the es_CO locale on
# the server's machine; PostgreSQL picks up a locale compiled this way without a restart.
if ! locale -a 2>/dev/null | grep -qi '^es_CO\.utf-\?8$'; then
  if [ ! -d /usr/share/i18n/locales ] || [ ! -f /usr/share/i18n/locales/es_CO ]; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq locales >/dev/null 2>&1 || true
  fi
  localedef --no-archive -i es_CO -f UTF-8 es_CO.UTF-8 >/dev/null 2>&1 || echo "es_CO.UTF-8 locale unavailable: the Spanish-messages test will say it skipped"
fi
if ready; then echo "PostgreSQL is running"; exit 0; fi
if ! ls /etc/postgresql/*/main >/dev/null 2>&1; then
  echo "installing PostgreSQL"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq postgresql >/dev/null
fi
version="$(ls /etc/postgresql | sort -V | tail -n1)"
pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
for _ in $(seq 1 30); do ready && break; sleep 1; done
ready || { echo "PostgreSQL did not start" >&2; exit 1; }
su postgres -c "psql -q -c \"ALTER ROLE postgres PASSWORD 'postgres'\"" >/dev/null 2>&1 || true
echo "PostgreSQL $version started"
