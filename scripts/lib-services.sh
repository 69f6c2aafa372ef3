# shellcheck shell=bash
# Throwaway PostgreSQL and Redis on loopback for the test suite, shared by `.ci/run` and
# `scripts/dev-services.sh` (source this file; it only defines functions and defaults).
#
#   easymo_services_install        apt-get install whatever is missing (apt-get update only then)
#   easymo_pg_start DIR            cluster in DIR/pg, 127.0.0.1:$EASYMO_PG_PORT, trust auth, superuser postgres
#   easymo_redis_start DIR         redis-server in DIR/redis, 127.0.0.1:$EASYMO_REDIS_PORT, AOF on, no RDB
#   easymo_pg_stop DIR / easymo_redis_stop DIR
#   easymo_s3_start DIR            moto's S3 server (pip `moto[server]` if missing), 127.0.0.1:$EASYMO_S3_PORT
#   easymo_s3_stop DIR
#
# A start function that finds its port already answering reuses that server and leaves
# EASYMO_PG_STARTED / EASYMO_REDIS_STARTED at 0, so the caller knows not to stop it.
# Every function checks its own errors and returns non-zero, so it behaves the same whether the
# caller runs it under `set -e` or inside `if`/`||` (where bash ignores `set -e`).

EASYMO_PG_PORT=${EASYMO_PG_PORT:-55432}
EASYMO_REDIS_PORT=${EASYMO_REDIS_PORT:-56379}
EASYMO_SVC_WAIT_SECS=${EASYMO_SVC_WAIT_SECS:-60}
EASYMO_PG_STARTED=${EASYMO_PG_STARTED:-0}
EASYMO_REDIS_STARTED=${EASYMO_REDIS_STARTED:-0}
EASYMO_S3_PORT=${EASYMO_S3_PORT:-55900}
EASYMO_S3_STARTED=${EASYMO_S3_STARTED:-0}

easymo_test_database_url() { printf 'postgres://postgres@127.0.0.1:%s/postgres\n' "$EASYMO_PG_PORT"; }
easymo_redis_url() { printf 'redis://127.0.0.1:%s\n' "$EASYMO_REDIS_PORT"; }
easymo_s3_endpoint() { printf 'http://127.0.0.1:%s\n' "$EASYMO_S3_PORT"; }

_svc_log() { printf '[services] %s\n' "$*" >&2; }
_svc_err() { printf '[services] ERROR: %s\n' "$*" >&2; }

# _svc_wait WHAT SECS CMD...: poll CMD every 0.25 s until it succeeds or SECS pass.
_svc_wait() {
    local what=$1 secs=$2 i
    shift 2
    for ((i = 0; i < secs * 4; i++)); do
        if "$@" >/dev/null 2>&1; then
            _svc_log "$what is accepting connections"
            return 0
        fi
        sleep 0.25
    done
    _svc_err "$what did not accept connections within ${secs}s"
    return 1
}

_svc_pg_has_tools() {
    local d=$1 t
    for t in initdb pg_ctl postgres pg_isready psql; do
        [[ -x $d/$t ]] || return 1
    done
}

# The directory holding one matching set of server binaries. Debian keeps them in
# /usr/lib/postgresql/<major>/bin, off PATH; a stray pg_ctl on PATH (such as /usr/local/bin/pg_ctl)
# may belong to another major version than initdb, so the tools are never mixed across directories.
# $PG_BINDIR overrides.
easymo_pg_bindir() {
    local d t
    if [[ -n ${PG_BINDIR:-} ]]; then
        _svc_pg_has_tools "$PG_BINDIR" && { printf '%s\n' "$PG_BINDIR"; return 0; }
        _svc_err "PG_BINDIR=$PG_BINDIR lacks initdb/pg_ctl/postgres/pg_isready/psql"
        return 1
    fi
    while IFS= read -r d; do
        _svc_pg_has_tools "$d" && { printf '%s\n' "$d"; return 0; }
    done < <(printf '%s\n' /usr/lib/postgresql/*/bin | sort -rV)
    for t in pg_ctl initdb; do
        d=$(command -v "$t" 2>/dev/null) || continue
        d=$(dirname "$(readlink -f "$d")")
        _svc_pg_has_tools "$d" && { printf '%s\n' "$d"; return 0; }
    done
    return 1
}

easymo_services_install() {
    local pkgs=() sudo=()
    easymo_pg_bindir >/dev/null 2>&1 || pkgs+=(postgresql)
    command -v redis-server >/dev/null 2>&1 || pkgs+=(redis-server)
    command -v redis-cli >/dev/null 2>&1 || pkgs+=(redis-tools)
    if ((${#pkgs[@]} == 0)); then
        _svc_log "postgresql and redis already installed"
        return 0
    fi
    if [[ $(id -u) -ne 0 ]]; then
        if ! command -v sudo >/dev/null 2>&1; then
            _svc_err "missing packages (${pkgs[*]}) and not root: install them first"
            return 1
        fi
        sudo=(sudo)
    fi
    _svc_log "installing: ${pkgs[*]}"
    local apt=(env DEBIAN_FRONTEND=noninteractive apt-get -qq -o Acquire::Retries=3 -o DPkg::Lock::Timeout=300)
    "${sudo[@]}" timeout 900 "${apt[@]}" update || { _svc_err "apt-get update failed"; return 1; }
    "${sudo[@]}" timeout 1200 "${apt[@]}" install -y --no-install-recommends "${pkgs[@]}" >/dev/null ||
        { _svc_err "apt-get install ${pkgs[*]} failed"; return 1; }
    easymo_pg_bindir >/dev/null || { _svc_err "PostgreSQL server binaries not found after install"; return 1; }
}

# The unix user that owns and runs the cluster: root cannot run postgres, so root hands it to the
# `postgres` user (created by Debian's postgresql package) or, failing that, to a dedicated one.
_svc_pg_user() {
    if [[ $(id -u) -ne 0 ]]; then
        id -un
    elif id postgres >/dev/null 2>&1; then
        echo postgres
    else
        id easymo-pg >/dev/null 2>&1 ||
            useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin easymo-pg ||
            return 1
        echo easymo-pg
    fi
}

# _svc_as_pg DIR CMD...: run CMD as the cluster owner, from DIR (root's cwd may be unreadable to it).
_svc_as_pg() {
    local dir=$1 user
    shift
    user=$(_svc_pg_user) || return 1
    if [[ $(id -u) -eq 0 ]]; then
        (cd "$dir" && runuser -u "$user" -- "$@")
    else
        (cd "$dir" && "$@")
    fi
}

_svc_pg_select1() {
    [[ $(PGCONNECT_TIMEOUT=5 "$1/psql" -X -q -h 127.0.0.1 -p "$EASYMO_PG_PORT" -U postgres -d postgres \
        -tAc 'select 1' 2>/dev/null) == 1 ]]
}

easymo_pg_start() {
    local base=${1:?easymo_pg_start DIR} bindir pgdir data user
    local port=$EASYMO_PG_PORT
    EASYMO_PG_STARTED=0
    bindir=$(easymo_pg_bindir) || { _svc_err "no PostgreSQL server binaries (initdb, pg_ctl) found"; return 1; }

    if "$bindir/pg_isready" -q -h 127.0.0.1 -p "$port" -t 3; then
        if _svc_pg_select1 "$bindir"; then
            _svc_log "PostgreSQL already running on 127.0.0.1:$port; reusing it (it will not be stopped)"
            return 0
        fi
        _svc_err "127.0.0.1:$port answers but does not let superuser postgres in without a password"
        return 1
    fi

    pgdir=$base/pg
    data=$pgdir/data
    user=$(_svc_pg_user) || { _svc_err "cannot find or create a unix user to run postgres"; return 1; }
    mkdir -p "$pgdir/sock" || return 1
    if [[ $(id -u) -eq 0 ]]; then
        chmod a+x "$base" && chown -R "$user:" "$pgdir" && chmod 700 "$pgdir" || return 1
        if ! runuser -u "$user" -- test -w "$pgdir"; then
            _svc_err "user $user cannot write $pgdir (is a parent directory private?)"
            return 1
        fi
    fi

    if [[ ! -f $data/PG_VERSION ]]; then
        _svc_log "initdb $data ($("$bindir/postgres" --version), run as $user)"
        if ! _svc_as_pg "$pgdir" "$bindir/initdb" -D "$data" -U postgres --auth=trust \
            --encoding=UTF8 --no-locale --no-sync >"$pgdir/initdb.log" 2>&1; then
            _svc_err "initdb failed:"
            tail -n 30 "$pgdir/initdb.log" >&2
            return 1
        fi
        printf "\ninclude_if_exists = 'easymo.conf'\n" >>"$data/postgresql.conf" || return 1
    fi
    # Rewritten on every start, so a changed port or socket directory takes effect.
    _svc_as_pg "$pgdir" tee "$data/easymo.conf" >/dev/null <<EOF || return 1
# Written by scripts/lib-services.sh: a throwaway test server, durability off on purpose.
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$pgdir/sock'
max_connections = 500
fsync = off
synchronous_commit = off
full_page_writes = off
EOF

    _svc_log "starting PostgreSQL on 127.0.0.1:$port (data $data)"
    if ! _svc_as_pg "$pgdir" "$bindir/pg_ctl" -D "$data" -l "$pgdir/postgres.log" \
        -w -t "$EASYMO_SVC_WAIT_SECS" start >/dev/null; then
        _svc_err "pg_ctl start failed; $pgdir/postgres.log ends with:"
        tail -n 30 "$pgdir/postgres.log" >&2
        return 1
    fi
    EASYMO_PG_STARTED=1
    _svc_wait "PostgreSQL 127.0.0.1:$port" "$EASYMO_SVC_WAIT_SECS" \
        "$bindir/pg_isready" -q -h 127.0.0.1 -p "$port" -t 2 || return 1
    _svc_pg_select1 "$bindir" || { _svc_err "PostgreSQL is up but 'select 1' as postgres failed"; return 1; }
}

easymo_pg_stop() {
    local base=${1:?easymo_pg_stop DIR} bindir
    [[ -f $base/pg/data/postmaster.pid ]] || return 0
    bindir=$(easymo_pg_bindir) || return 1
    _svc_log "stopping PostgreSQL ($base/pg/data)"
    _svc_as_pg "$base/pg" "$bindir/pg_ctl" -D "$base/pg/data" -m fast -w -t 30 stop >/dev/null
}

_svc_redis_ping() {
    [[ $(timeout 5 redis-cli -h 127.0.0.1 -p "$EASYMO_REDIS_PORT" ping 2>/dev/null) == PONG ]]
}

easymo_redis_start() {
    local base=${1:?easymo_redis_start DIR} dir
    local port=$EASYMO_REDIS_PORT
    EASYMO_REDIS_STARTED=0
    command -v redis-server >/dev/null 2>&1 || { _svc_err "redis-server not installed"; return 1; }
    if _svc_redis_ping; then
        _svc_log "Redis already running on 127.0.0.1:$port; reusing it (it will not be stopped)"
        return 0
    fi
    dir=$base/redis
    mkdir -p "$dir" || return 1
    _svc_log "starting Redis on 127.0.0.1:$port (dir $dir)"
    if ! redis-server --bind 127.0.0.1 --port "$port" --protected-mode yes \
        --appendonly yes --save '' --dir "$dir" --daemonize yes \
        --pidfile "$dir/redis.pid" --logfile "$dir/redis.log"; then
        _svc_err "redis-server failed to start; $dir/redis.log ends with:"
        tail -n 30 "$dir/redis.log" >&2 2>/dev/null
        return 1
    fi
    EASYMO_REDIS_STARTED=1
    if ! _svc_wait "Redis 127.0.0.1:$port" "$EASYMO_SVC_WAIT_SECS" _svc_redis_ping; then
        tail -n 30 "$dir/redis.log" >&2 2>/dev/null
        return 1
    fi
}

# Stops the redis-server whose pid file is in DIR/redis (never a server someone else started).
easymo_redis_stop() {
    local base=${1:?easymo_redis_stop DIR} pidfile pid i
    pidfile=$base/redis/redis.pid
    [[ -s $pidfile ]] || return 0
    pid=$(<"$pidfile")
    [[ $pid =~ ^[0-9]+$ ]] || return 0
    kill -0 "$pid" 2>/dev/null || return 0
    _svc_log "stopping Redis (pid $pid)"
    kill -TERM "$pid" 2>/dev/null || return 0
    for ((i = 0; i < 40; i++)); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.25
    done
    kill -KILL "$pid" 2>/dev/null
    return 0
}

# S3-compatible server for the vendor service's image store test (TEST_S3_ENDPOINT): moto from
# PyPI, run as `python3 -m moto.server` (no console-script shim needed).
_svc_s3_up() { (exec 3<>"/dev/tcp/127.0.0.1/$EASYMO_S3_PORT") 2>/dev/null; }

easymo_s3_start() {
    local dir=${1:?easymo_s3_start DIR}/s3
    EASYMO_S3_STARTED=0
    if _svc_s3_up; then
        _svc_log "S3 (moto) already running on 127.0.0.1:$EASYMO_S3_PORT; reusing it"
        return 0
    fi
    if ! python3 -c 'import moto.server, flask' >/dev/null 2>&1; then
        _svc_log "installing moto[server] from PyPI"
        timeout 600 python3 -m pip install --quiet --disable-pip-version-check 'moto[server]' >/dev/null ||
            { _svc_err "pip install moto[server] failed"; return 1; }
    fi
    mkdir -p "$dir" || return 1
    nohup python3 -m moto.server -H 127.0.0.1 -p "$EASYMO_S3_PORT" >"$dir/moto.log" 2>&1 &
    echo $! >"$dir/moto.pid"
    _svc_wait "S3 (moto)" "$EASYMO_SVC_WAIT_SECS" _svc_s3_up || { tail -n 20 "$dir/moto.log" >&2; return 1; }
    EASYMO_S3_STARTED=1
}

easymo_s3_stop() {
    local pidfile=${1:?easymo_s3_stop DIR}/s3/moto.pid
    [[ -s $pidfile ]] || return 0
    kill "$(<"$pidfile")" 2>/dev/null || true
    rm -f "$pidfile"
}
