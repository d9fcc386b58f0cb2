# shellcheck shell=bash
# A small PostgreSQL 15 primary and a streaming replica of it, made with Debian's own tools
# (pg_createcluster, pg_basebackup, pg_ctlcluster, pg_dropcluster), for scripts/replica-test.sh.
#
# Source this file, then:
#
#   replica_clusters_up   PREFIX PRIMARY_PORT REPLICA_PORT   # makes PREFIX_primary and PREFIX_replica
#   replica_clusters_down PREFIX                             # drops both, whatever state they are in
#   replica_url           PORT [DB]                          # postgres://postgres@127.0.0.1:PORT/DB
#   replica_psql          PORT SQL [DB]                      # one value, unaligned, no header
#   replica_primary_lsn   PRIMARY_PORT                       # pg_current_wal_lsn() as text
#   replica_replay_lsn    REPLICA_PORT                       # pg_last_wal_replay_lsn() as text
#   replica_lag_bytes     PRIMARY_PORT REPLICA_PORT          # primary's WAL position minus replay
#   replica_wait_replay   REPLICA_PORT LSN [TIMEOUT_S]       # until the replica has replayed LSN
#   replica_wait_caught_up PRIMARY_PORT REPLICA_PORT [TIMEOUT_S]
#
# Both clusters listen on 127.0.0.1 with trust authentication for every local connection (TCP
# and socket, replication included), so `postgres://postgres@127.0.0.1:PORT/postgres` works
# without a password. They are for tests only: never point this at a cluster you care about.
# The cluster names must not exist for anything else; a leftover from a crashed run of the same
# PREFIX is dropped first. The shared `main` cluster is never touched.
#
# Runs as root (the clusters are still owned by `postgres`: pg_createcluster refuses root as
# owner, and pg_basebackup is run as postgres so that the replica's files are postgres's) or as
# the postgres user itself.
#
# Options, from the environment:
#   REPLICA_PG_VERSION   (15)
#   REPLICA_PG_OPTS      extra `guc=value` settings for both clusters, space-separated,
#                        e.g. "shared_buffers=256MB fsync=off"
#   REPLICA_UP_TIMEOUT   seconds to wait for the replica to stream (60)

REPLICA_PG_VERSION=${REPLICA_PG_VERSION:-15}

# Runs a command as the postgres user (directly when that is who we are).
_replica_as_postgres() {
    if [ "$(id -u)" -eq 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

_replica_log() { printf '[replica-cluster] %s\n' "$*" >&2; }

# A cluster name we are willing to create and drop: letters, digits and underscores, and never
# the shared cluster.
_replica_check_prefix() {
    local prefix=$1
    if ! [[ $prefix =~ ^[a-z][a-z0-9_]{0,40}$ ]]; then
        _replica_log "bad prefix '$prefix' (want [a-z][a-z0-9_]*)"
        return 1
    fi
}

_replica_cluster_exists() {
    local name=$1
    pg_lsclusters -h 2>/dev/null | awk -v v="$REPLICA_PG_VERSION" -v n="$name" \
        '$1 == v && $2 == n { found = 1 } END { exit !found }'
}

_replica_port_free() {
    local port=$1
    # Anything answering on the port, PostgreSQL or not, makes it taken.
    ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null
}

# postgres://postgres@127.0.0.1:PORT/DB
replica_url() {
    printf 'postgres://postgres@127.0.0.1:%s/%s\n' "$1" "${2:-postgres}"
}

# One value from one statement, unaligned and without a header. Fails on an SQL error.
replica_psql() {
    local port=$1 sql=$2 db=${3:-postgres}
    psql -X -q -A -t -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$port" -U postgres -d "$db" -c "$sql"
}

# Drops one cluster, whatever is left of it: stopped, running, half created, or only its
# directories.
_replica_drop_one() {
    local name=$1 v=$REPLICA_PG_VERSION
    if _replica_cluster_exists "$name"; then
        # Immediate: nothing in a throwaway cluster needs a clean shutdown, and it is seconds
        # faster than the fast shutdown pg_dropcluster --stop would do.
        pg_ctlcluster "$v" "$name" stop -m immediate >/dev/null 2>&1 || true
        pg_dropcluster --stop "$v" "$name" 2>/dev/null || {
            # A cluster whose data directory is gone or whose server will not stop cleanly.
            pg_ctlcluster "$v" "$name" stop -m immediate >/dev/null 2>&1 || true
            pg_dropcluster "$v" "$name" 2>/dev/null || true
        }
    fi
    # What pg_dropcluster could not remove (it leaves /etc/postgresql/V/NAME behind while our
    # conf.d file is in it), or a run that died inside pg_createcluster. The name was checked by
    # _replica_check_prefix, so these paths are ours.
    if [ -d "/etc/postgresql/$v/$name" ] || [ -d "/var/lib/postgresql/$v/$name" ]; then
        local pidfile="/var/lib/postgresql/$v/$name/postmaster.pid"
        if [ -f "$pidfile" ]; then
            local pid
            pid=$(head -n1 "$pidfile")
            if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
                kill -QUIT "$pid" 2>/dev/null || true   # immediate shutdown of that postmaster
                sleep 1
            fi
        fi
        rm -rf -- "/etc/postgresql/$v/$name" "/var/lib/postgresql/$v/$name"
        rm -f -- "/var/log/postgresql/postgresql-$v-$name.log"
    fi
}

# Drops PREFIX_replica and PREFIX_primary. Safe to call on nothing, on half of it, or twice.
replica_clusters_down() {
    local prefix=$1
    _replica_check_prefix "$prefix" || return 1
    # pg_dropcluster takes about 2 s even on a stopped cluster here, so both go at once.
    _replica_drop_one "${prefix}_replica" &
    local rpid=$!
    _replica_drop_one "${prefix}_primary"
    wait "$rpid"
    ! _replica_cluster_exists "${prefix}_replica" && ! _replica_cluster_exists "${prefix}_primary"
}

# Trust for every local connection, replication included. Written into the cluster's
# pg_hba.conf under /etc (Debian keeps configuration outside the data directory, so
# pg_basebackup does not carry it to the replica).
_replica_write_hba() {
    local name=$1
    cat >"/etc/postgresql/$REPLICA_PG_VERSION/$name/pg_hba.conf" <<'EOF'
# Written by replica-cluster.sh: a throwaway test cluster, trust for local connections only.
local   all             all                     trust
host    all             all     127.0.0.1/32    trust
host    all             all     ::1/128         trust
local   replication     all                     trust
host    replication     all     127.0.0.1/32    trust
host    replication     all     ::1/128         trust
EOF
    chown postgres:postgres "/etc/postgresql/$REPLICA_PG_VERSION/$name/pg_hba.conf"
}

# pg_createcluster, then our settings in conf.d (Debian's postgresql.conf includes it); the
# cluster is not started.
_replica_create() {
    local name=$1 port=$2 opt conf
    # --start-conf=manual: a throwaway cluster is not started at boot. initdb's --no-sync: a
    # throwaway cluster need not survive a power cut (it saves seconds here).
    pg_createcluster --quiet --start-conf=manual -p "$port" \
        "$REPLICA_PG_VERSION" "$name" -- --auth=trust --no-sync >/dev/null || return 1
    conf="/etc/postgresql/$REPLICA_PG_VERSION/$name/conf.d/50-replica-test.conf"
    {
        echo "# Written by replica-cluster.sh."
        echo "listen_addresses = '127.0.0.1'"
        echo "ssl = off"
        echo "wal_level = replica"
        echo "max_wal_senders = 5"
        echo "hot_standby = on"
        # A long read on the replica (the CSV export) holds back vacuum on the primary rather
        # than being cancelled by it.
        echo "hot_standby_feedback = on"
        # After pg_basebackup --no-sync the replica syncs its data directory at start; one
        # syncfs() is faster than an fsync() per file.
        echo "recovery_init_sync_method = syncfs"
        for opt in ${REPLICA_PG_OPTS:-}; do
            echo "${opt%%=*} = '${opt#*=}'"
        done
    } >"$conf"
    chown postgres:postgres "$conf"
    _replica_write_hba "$name"
}

# Until SQL answers `t` on PORT, or TIMEOUT seconds.
_replica_wait_true() {
    local port=$1 sql=$2 timeout=${3:-60} deadline
    deadline=$((SECONDS + timeout))
    while :; do
        if [ "$(replica_psql "$port" "$sql" 2>/dev/null)" = t ]; then return 0; fi
        if [ "$SECONDS" -ge "$deadline" ]; then return 1; fi
        sleep 0.1
    done
}

# Makes and starts PREFIX_primary on PRIMARY_PORT and PREFIX_replica on REPLICA_PORT, streaming
# from it. Returns once the primary's pg_stat_replication shows the replica streaming.
replica_clusters_up() {
    local prefix=$1 pport=$2 rport=$3 v=$REPLICA_PG_VERSION
    local primary="${prefix}_primary" replica="${prefix}_replica"
    local timeout=${REPLICA_UP_TIMEOUT:-60}
    _replica_check_prefix "$prefix" || return 1
    if [ -z "$pport" ] || [ -z "$rport" ] || [ "$pport" = "$rport" ]; then
        _replica_log "usage: replica_clusters_up PREFIX PRIMARY_PORT REPLICA_PORT (two ports)"
        return 1
    fi

    # A crashed run of the same prefix leaves its clusters behind: drop them first.
    replica_clusters_down "$prefix"

    local port
    for port in "$pport" "$rport"; do
        if ! _replica_port_free "$port"; then
            _replica_log "port $port is in use"
            return 1
        fi
    done

    # The primary.
    _replica_create "$primary" "$pport" || return 1
    pg_ctlcluster "$v" "$primary" start || return 1
    _replica_wait_true "$pport" "SELECT true" "$timeout" || {
        _replica_log "primary $primary did not answer on $pport"; return 1; }

    # The replica: a cluster whose data directory is replaced by a base backup of the primary.
    # -R writes standby.signal and primary_conninfo (into postgresql.auto.conf); -X stream copies
    # the WAL written during the backup through a second connection.
    _replica_create "$replica" "$rport" || return 1
    local rdata="/var/lib/postgresql/$v/$replica"
    find "$rdata" -mindepth 1 -delete
    _replica_as_postgres pg_basebackup -h 127.0.0.1 -p "$pport" -U postgres -D "$rdata" \
        -R -X stream --checkpoint=fast --no-sync || {
        _replica_log "pg_basebackup failed"; return 1; }
    pg_ctlcluster "$v" "$replica" start || return 1

    _replica_wait_true "$rport" "SELECT pg_is_in_recovery()" "$timeout" || {
        _replica_log "replica $replica is not in recovery on $rport"; return 1; }
    # The walreceiver names itself after cluster_name, which Debian sets to `15/NAME`.
    _replica_wait_true "$pport" \
        "SELECT EXISTS (SELECT 1 FROM pg_stat_replication
                        WHERE application_name = '$v/$replica' AND state = 'streaming')" \
        "$timeout" || {
        _replica_log "replica $replica is not streaming from $primary"; return 1; }
}

# The primary's current WAL write position (pg_current_wal_lsn()), as text, e.g. 0/3000148.
# With synchronous_commit on (the default, and these clusters' setting) every commit that has
# returned lies at or before it. Under synchronous_commit = off it may not: a session that turned
# it off should wait for pg_current_wal_insert_lsn() instead (see the report on causal reads).
replica_primary_lsn() {
    replica_psql "$1" "SELECT pg_current_wal_lsn()"
}

# How far the replica has replayed, as text.
replica_replay_lsn() {
    replica_psql "$1" "SELECT pg_last_wal_replay_lsn()"
}

# Bytes of WAL the primary has written that the replica has not replayed yet (0 when caught up).
# The two positions are read one after the other, so it is an estimate from an instant ago.
replica_lag_bytes() {
    local pport=$1 rport=$2 p r
    p=$(replica_primary_lsn "$pport") || return 1
    r=$(replica_replay_lsn "$rport") || return 1
    replica_psql "$pport" "SELECT greatest(pg_wal_lsn_diff('$p', '$r'), 0)::bigint"
}

# Waits until the replica has replayed LSN (text, `X/Y`), at most TIMEOUT seconds (10).
replica_wait_replay() {
    local rport=$1 lsn=$2 timeout=${3:-10}
    if ! [[ $lsn =~ ^[0-9A-Fa-f]{1,8}/[0-9A-Fa-f]{1,8}$ ]]; then
        _replica_log "bad LSN '$lsn'"; return 1
    fi
    _replica_wait_true "$rport" "SELECT pg_last_wal_replay_lsn() >= '$lsn'::pg_lsn" "$timeout"
}

# Waits until the replica has replayed everything the primary had written when called.
replica_wait_caught_up() {
    local pport=$1 rport=$2 timeout=${3:-10} lsn
    lsn=$(replica_primary_lsn "$pport") || return 1
    replica_wait_replay "$rport" "$lsn" "$timeout"
}
