#!/usr/bin/env bash
# The test PostgreSQL (127.0.0.1:55432) and Redis (127.0.0.1:56379) that CI uses, for local runs.
# State lives in /tmp/easymo-dev ($EASYMO_DEV_DIR). Idempotent: servers already answering are left alone.
#
#   eval "$(scripts/dev-services.sh)"     start (if needed) and export TEST_DATABASE_URL, REDIS_URL
#   scripts/dev-services.sh env           only print the exports
#   scripts/dev-services.sh stop          stop the servers started from /tmp/easymo-dev
#
# Logs go to stderr, the export lines to stdout.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=scripts/lib-services.sh
source "$here/lib-services.sh"

dir=${EASYMO_DEV_DIR:-/tmp/easymo-dev}

print_env() {
    printf 'export TEST_DATABASE_URL=%s\n' "$(easymo_test_database_url)"
    printf 'export REDIS_URL=%s\n' "$(easymo_redis_url)"
}

case ${1:-start} in
start)
    easymo_services_install
    mkdir -p "$dir"
    easymo_pg_start "$dir"
    easymo_redis_start "$dir"
    print_env
    ;;
env)
    print_env
    ;;
stop)
    easymo_redis_stop "$dir"
    easymo_pg_stop "$dir"
    ;;
*)
    echo "usage: $0 [start|env|stop]" >&2
    exit 2
    ;;
esac
