#!/usr/bin/env bash
# Local servers for the integration tests, without Docker or systemd.
#
#   scripts/services.sh install   apt packages (only the missing ones) + Kafka jars (only if not cached)
#                                 + Sloth (go install, only if not cached; the OpenSLO consumer test)
#   scripts/services.sh up        install if needed, start what is not running, wait until ready
#   scripts/services.sh up NAME.. only these (node-exporter prometheus alertmanager mariadb kafka), e.g. for make demo
#   scripts/services.sh down      stop what this script started (pid files), leave anything else alone
#   scripts/services.sh down NAME.. only these, e.g. what make demo started
#   scripts/services.sh status    print each server and whether it is up (exit 3 if any is down)
#   scripts/services.sh env       print `export MONITORING_TEST_...=...` lines
#
# Everything listens on 127.0.0.1 only. Data, logs, configs and pid files live
# under <repo>/.services/ (git-ignored; MONITORING_SERVICES_DIR moves them, e.g.
# for a second, private set). Kafka jars are cached outside the repo
# in ${MONITORING_KAFKA_JARS:-/var/cache/monitoring/kafka-4.1.1}, Sloth
# in ${MONITORING_SLOTH_DIR:-$HOME/.cache/monitoring/sloth-v0.16.0}.
# With MONITORING_SERVICES_STARTED_FILE set, `up` writes there one line per
# service: "started NAME", "running NAME" (started by services.sh before) or
# "foreign NAME" (its port is served by something else); make demo uses it to
# stop only what it started.
#
# Ports (override with these environment variables):
#   MONITORING_PROMETHEUS_PORT       19090
#   MONITORING_NODE_EXPORTER_PORT    19100
#   MONITORING_MARIADB_PORT          13306
#   MONITORING_KAFKA_PORT            19092
#   MONITORING_KAFKA_CONTROLLER_PORT 19093
#   MONITORING_ALERTMANAGER_PORT     19094
#   MONITORING_ALERTMANAGER_WEBHOOK_PORT 19096  (Alertmanager's one receiver: a webhook on
#                                    loopback that tests/integration/test_alerting_on_prometheus.py serves)
# Readiness timeout in seconds: MONITORING_SERVICES_TIMEOUT (90).
# Probes use curl --noproxy '*' so they never leave loopback; the proxy
# environment is left intact for apt-get and mvn.
set -euo pipefail
set +m  # no job control: background children must stay in our process group until setsid

SCRIPT_DIR=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)
REPO_ROOT=$(cd -- "$SCRIPT_DIR/.." && pwd -P)
SERVICES_DIR=${MONITORING_SERVICES_DIR:-$REPO_ROOT/.services}
[[ $SERVICES_DIR == /* ]] || SERVICES_DIR="$PWD/$SERVICES_DIR"
RUN_DIR="$SERVICES_DIR/run"

HOST=127.0.0.1
PROMETHEUS_PORT=${MONITORING_PROMETHEUS_PORT:-19090}
NODE_EXPORTER_PORT=${MONITORING_NODE_EXPORTER_PORT:-19100}
MARIADB_PORT=${MONITORING_MARIADB_PORT:-13306}
KAFKA_PORT=${MONITORING_KAFKA_PORT:-19092}
KAFKA_CONTROLLER_PORT=${MONITORING_KAFKA_CONTROLLER_PORT:-19093}
ALERTMANAGER_PORT=${MONITORING_ALERTMANAGER_PORT:-19094}
ALERTMANAGER_WEBHOOK_PORT=${MONITORING_ALERTMANAGER_WEBHOOK_PORT:-19096}
READY_TIMEOUT=${MONITORING_SERVICES_TIMEOUT:-90}
STOP_TIMEOUT=30

PROMETHEUS_BIN=/usr/bin/prometheus
PROMTOOL_BIN=/usr/bin/promtool
NODE_EXPORTER_BIN=/usr/bin/prometheus-node-exporter
ALERTMANAGER_BIN=/usr/bin/prometheus-alertmanager
MARIADBD_BIN=/usr/sbin/mariadbd
JAVA_BIN=${MONITORING_JAVA:-java}

KAFKA_VERSION=4.1.1
KAFKA_JARS=${MONITORING_KAFKA_JARS:-/var/cache/monitoring/kafka-$KAFKA_VERSION}
KAFKA_MARKER_JARS=("kafka_2.13-$KAFKA_VERSION.jar" "kafka-tools-$KAFKA_VERSION.jar")

SLOTH_VERSION=v0.16.0  # tests/integration/test_sloth_reads_our_openslo.py (ADR 0044)
SLOTH_DIR=${MONITORING_SLOTH_DIR:-$HOME/.cache/monitoring/sloth-$SLOTH_VERSION}
SLOTH_BIN=$SLOTH_DIR/sloth

DB_NAME=monitoring
DB_USER=monitoring
DB_PASSWORD=monitoring

APT_PACKAGES=(prometheus prometheus-node-exporter prometheus-alertmanager mariadb-server wrk)  # wrk: bench/api.py
SERVICES=(node-exporter prometheus alertmanager mariadb kafka)

P_DIR="$SERVICES_DIR/prometheus"
N_DIR="$SERVICES_DIR/node-exporter"
M_DIR="$SERVICES_DIR/mariadb"
K_DIR="$SERVICES_DIR/kafka"
A_DIR="$SERVICES_DIR/alertmanager"

# ---------------------------------------------------------------- helpers ---

say() { printf 'services: %s\n' "$*"; }
die() { printf 'services: ERROR: %s\n' "$*" >&2; exit 1; }

now_us() { local t=${EPOCHREALTIME//[.,]/}; echo "$t"; }
elapsed() {  # elapsed seconds since a now_us value, one decimal
    local us=$(( $(now_us) - $1 ))
    printf '%d.%d' $((us / 1000000)) $((us % 1000000 / 100000))
}

need_root() { [[ $EUID -eq 0 ]] || die "$1 needs root (run as root)"; }

lock() {  # serialise concurrent up/down/install of the same checkout
    mkdir -p "$SERVICES_DIR" "$RUN_DIR"
    exec 9>"$SERVICES_DIR/.lock"
    flock -w 600 9 || die "could not lock $SERVICES_DIR/.lock"
}

port_open() {  # port_open PORT: something accepts TCP connections on 127.0.0.1:PORT
    # shellcheck disable=SC2016  # $0/$1 expand in the child bash
    timeout 2 bash -c 'exec 3<>"/dev/tcp/$0/$1"' "$HOST" "$1" 2>/dev/null
}

write_if_changed() {  # write_if_changed FILE  (content on stdin)
    local file=$1 tmp
    tmp=$(mktemp "$file.XXXXXX")
    cat >"$tmp"
    if [[ -f $file ]] && cmp -s "$tmp" "$file"; then
        rm -f "$tmp"
    else
        chmod 644 "$tmp"
        mv -f "$tmp" "$file"
    fi
}

rotate_log() {  # keep the previous run's log as LOG.1
    [[ -s $1 ]] && mv -f "$1" "$1.1"
    : >"$1"
}

tail_log() {
    local f
    for f in "$@"; do
        [[ -s $f ]] || continue
        printf -- '----- last 40 lines of %s -----\n' "$f" >&2
        tail -n 40 "$f" >&2
        printf -- '-----\n' >&2
    done
}

# --- process bookkeeping -----------------------------------------------------
# A pid file only counts if the process is alive AND its command line contains
# the service's marker (so a recycled pid is never mistaken for ours, and a
# zombie, whose cmdline is empty, counts as dead).

pid_file() { echo "$RUN_DIR/$1.pid"; }

marker() {
    case $1 in
        prometheus)    echo "--config.file=$P_DIR/prometheus.yml" ;;
        node-exporter) echo "$NODE_EXPORTER_BIN " ;;  # no config file to key on
        mariadb)       echo "--defaults-file=$M_DIR/my.cnf" ;;
        kafka)         echo "$K_DIR/server.properties" ;;
        alertmanager)  echo "--config.file=$A_DIR/alertmanager.yml" ;;
    esac
}

port_of() {
    case $1 in
        prometheus)    echo "$PROMETHEUS_PORT" ;;
        node-exporter) echo "$NODE_EXPORTER_PORT" ;;
        mariadb)       echo "$MARIADB_PORT" ;;
        kafka)         echo "$KAFKA_PORT" ;;
        alertmanager)  echo "$ALERTMANAGER_PORT" ;;
    esac
}

log_of() {
    case $1 in
        prometheus)    echo "$P_DIR/prometheus.log" ;;
        node-exporter) echo "$N_DIR/node-exporter.log" ;;
        mariadb)       echo "$M_DIR/mariadb.log" ;;
        kafka)         echo "$K_DIR/kafka.log" ;;
        alertmanager)  echo "$A_DIR/alertmanager.log" ;;
    esac
}

pid_matches() {  # pid_matches PID MARKER
    local pid=$1 cmdline
    [[ $pid =~ ^[0-9]+$ ]] || return 1
    cmdline=$( { tr '\0' ' ' <"/proc/$pid/cmdline"; } 2>/dev/null) || return 1
    [[ -n $cmdline && $cmdline == *"$2"* ]]
}

our_pid() {  # print the pid of our running instance of $1, or fail
    local f pid
    f=$(pid_file "$1")
    [[ -f $f ]] || return 1
    pid=$(<"$f")
    pid_matches "$pid" "$(marker "$1")" || return 1
    echo "$pid"
}

launch() {  # launch NAME WORKDIR LOG CMD...: start detached, record pid
    local name=$1 dir=$2 log=$3 pid i
    shift 3
    # setsid: own session/process group, survives this script and its terminal;
    # fd 9 (our lock) must not leak into the server.
    (
        cd "$dir"
        exec 9>&-
        exec setsid nohup "$@" >>"$log" 2>&1 </dev/null
    ) &
    pid=$!
    # $! is the server itself (subshell -> exec setsid -> exec nohup -> exec cmd);
    # wait until the exec chain has reached the server binary.
    for ((i = 0; i < 50; i++)); do
        pid_matches "$pid" "$(marker "$name")" && break
        if ! kill -0 "$pid" 2>/dev/null; then break; fi
        sleep 0.1
    done
    echo "$pid" >"$(pid_file "$name")"
}

stop_one() {  # stop_one NAME: SIGTERM, wait STOP_TIMEOUT, then SIGKILL
    local name=$1 f pid start target i
    f=$(pid_file "$name")
    if [[ ! -f $f ]]; then
        if port_open "$(port_of "$name")"; then
            say "$name: port $(port_of "$name") is served by a process not started by services.sh; leaving it alone"
        else
            say "$name not running"
        fi
        return 0
    fi
    if ! pid=$(our_pid "$name"); then
        say "$name not running (removed stale pid file)"
        rm -f "$f"
        return 0
    fi
    start=$(now_us)
    say "stopping $name (pid $pid) ..."
    # launch() made the server a session/process-group leader: signal the group.
    target=$pid
    [[ $(ps -o pgid= -p "$pid" 2>/dev/null | tr -d ' ') == "$pid" ]] && target=-$pid
    kill -TERM -- "$target" 2>/dev/null || true
    for ((i = 0; i < STOP_TIMEOUT * 10; i++)); do
        pid_matches "$pid" "$(marker "$name")" || break
        sleep 0.1
    done
    if pid_matches "$pid" "$(marker "$name")"; then
        say "$name did not stop within ${STOP_TIMEOUT}s, sending SIGKILL"
        kill -KILL -- "$target" 2>/dev/null || true
        for ((i = 0; i < 100; i++)); do
            pid_matches "$pid" "$(marker "$name")" || break
            sleep 0.1
        done
        pid_matches "$pid" "$(marker "$name")" && die "$name (pid $pid) survived SIGKILL"
    fi
    rm -f "$f"
    say "$name stopped ($(elapsed "$start")s)"
}

# ----------------------------------------------------------------- install ---

pkg_installed() {
    [[ $(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null || true) == installed ]]
}

wants() {  # wants NAME: NAME is among the services this run manages
    local n
    for n in "${SERVICES[@]}"; do [[ $n == "$1" ]] && return 0; done
    return 1
}

missing_packages() {
    local p
    for p in "${APT_PACKAGES[@]}"; do
        case $p in
            mariadb-server) wants mariadb || continue ;;
            wrk) wants kafka || continue ;;  # the full set only (benchmarks)
            prometheus-alertmanager) wants alertmanager || continue ;;
        esac
        pkg_installed "$p" || echo "$p"
    done
    if wants kafka; then
        command -v "$JAVA_BIN" >/dev/null || echo openjdk-17-jre-headless
        command -v mvn >/dev/null || echo maven
    fi
    command -v curl >/dev/null || echo curl
}

kafka_jars_ok() {
    local j
    for j in "${KAFKA_MARKER_JARS[@]}"; do [[ -f $KAFKA_JARS/$j ]] || return 1; done
    compgen -G "$KAFKA_JARS/slf4j-api-2.*.jar" >/dev/null
}

install_packages() {
    local missing
    mapfile -t missing < <(missing_packages)
    if ((${#missing[@]} == 0)); then
        return 0
    fi
    need_root "installing ${missing[*]}"
    say "installing packages: ${missing[*]} ..."
    apt-get update -q
    # Debian's postinst scripts may try to start the system prometheus /
    # node-exporter / mariadb units; harmless either way: we never use them
    # (different ports, own configs, own data dirs, own pid files).
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
}

install_kafka_jars() {
    kafka_jars_ok && return 0
    local parent tmp old
    parent=$(dirname -- "$KAFKA_JARS")
    if [[ -d $KAFKA_JARS && ! -f $KAFKA_JARS/kafka_2.13-$KAFKA_VERSION.jar ]] &&
        [[ -n $(ls -A -- "$KAFKA_JARS") ]]; then
        die "$KAFKA_JARS exists but does not look like a Kafka jar cache; remove it or set MONITORING_KAFKA_JARS"
    fi
    command -v mvn >/dev/null || die "mvn not found (run: $0 install)"
    mkdir -p "$parent"
    tmp=$(mktemp -d "$parent/.kafka-$KAFKA_VERSION.tmp.XXXXXX")
    say "fetching Kafka $KAFKA_VERSION jars into $KAFKA_JARS (mvn) ..."
    if ! (cd "$tmp" && mvn -B -Dstyle.color=never -f "$SCRIPT_DIR/kafka/pom.xml" \
            dependency:copy-dependencies -DoutputDirectory="$tmp/libs" -DincludeScope=runtime \
            >"$tmp/mvn.log" 2>&1); then
        tail_log "$tmp/mvn.log"
        rm -rf "$tmp"
        die "mvn could not fetch the Kafka jars"
    fi
    chmod 755 "$tmp/libs"
    # Atomic publish: rename into place. If an older/incomplete cache exists
    # (or another checkout won the race) swap or discard accordingly.
    if [[ -d $KAFKA_JARS ]]; then
        if kafka_jars_ok; then
            rm -rf "$tmp"
            return 0
        fi
        old="$tmp/old"
        mv -T "$KAFKA_JARS" "$old"
    fi
    mv -T "$tmp/libs" "$KAFKA_JARS"
    rm -rf "$tmp"
    kafka_jars_ok || die "Kafka jar cache $KAFKA_JARS is incomplete after fetching"
    # shellcheck disable=SC2012  # jar names are plain
    say "Kafka jars cached in $KAFKA_JARS ($(ls "$KAFKA_JARS" | wc -l) jars)"
}

install_sloth() {  # go install into a cache of its own, once
    [[ -x $SLOTH_BIN ]] && return 0
    local go_bin
    go_bin=$(command -v go || echo /usr/local/go/bin/go)
    [[ -x $go_bin ]] || die "go not found: needed once to install Sloth $SLOTH_VERSION"
    mkdir -p "$SLOTH_DIR"
    say "installing Sloth $SLOTH_VERSION into $SLOTH_DIR (go install) ..."
    GOBIN=$SLOTH_DIR "$go_bin" install "github.com/slok/sloth/cmd/sloth@$SLOTH_VERSION" ||
        die "go install of Sloth $SLOTH_VERSION failed"
}

cmd_install() {
    lock
    install_packages
    install_kafka_jars
    install_sloth
    say "install: ok"
}

ensure_installed() {
    local missing
    mapfile -t missing < <(missing_packages)
    ((${#missing[@]} == 0)) || install_packages
    if wants kafka; then install_kafka_jars; fi
    install_sloth
}

# -------------------------------------------------------------- prometheus ---

prometheus_config() {
    # rules/*.yml: rule files written by `make demo` (MONITORING_RULES_FILE) and the
    # live-rules integration test; targets/*.yml: file_sd targets `make demo` adds
    # (its /metrics) while it runs. Empty directories load nothing.
    mkdir -p "$P_DIR/data" "$P_DIR/rules" "$P_DIR/targets"
    write_if_changed "$P_DIR/prometheus.yml" <<EOF
# generated by scripts/services.sh
global:
  scrape_interval: 5s
  evaluation_interval: 5s
rule_files:
  - $P_DIR/rules/*.yml
scrape_configs:
  - job_name: prometheus
    static_configs:
      - targets: ['$HOST:$PROMETHEUS_PORT']
  - job_name: node
    static_configs:
      - targets: ['$HOST:$NODE_EXPORTER_PORT']
  - job_name: monitoring
    file_sd_configs:
      - files: ['$P_DIR/targets/*.yml']
EOF
}

prometheus_refresh() {  # a running Prometheus of ours: bring its configuration up to date
    local before
    before=$(cksum <"$P_DIR/prometheus.yml" 2>/dev/null || true)
    prometheus_config
    if [[ $(cksum <"$P_DIR/prometheus.yml") != "$before" ]]; then
        say "prometheus: configuration changed, reloading"
        curl -fsS --noproxy '*' --max-time 30 -X POST -o /dev/null \
            "http://$HOST:$PROMETHEUS_PORT/-/reload" ||
            say "prometheus: reload failed; restart it (services.sh down prometheus; up prometheus)"
    fi
}

prometheus_start() {
    prometheus_config
    rotate_log "$(log_of prometheus)"
    launch prometheus "$P_DIR" "$(log_of prometheus)" \
        "$PROMETHEUS_BIN" \
        "--config.file=$P_DIR/prometheus.yml" \
        "--storage.tsdb.path=$P_DIR/data" \
        "--storage.tsdb.retention.time=15d" \
        "--web.listen-address=$HOST:$PROMETHEUS_PORT" \
        --web.enable-admin-api \
        --web.enable-lifecycle
}

prometheus_ready() {
    curl -fsS --noproxy '*' --max-time 3 -o /dev/null "http://$HOST:$PROMETHEUS_PORT/-/ready" 2>/dev/null
}

# ----------------------------------------------------------- node-exporter ---

node-exporter_start() {
    mkdir -p "$N_DIR"
    rotate_log "$(log_of node-exporter)"
    launch node-exporter "$N_DIR" "$(log_of node-exporter)" \
        "$NODE_EXPORTER_BIN" "--web.listen-address=$HOST:$NODE_EXPORTER_PORT" \
        --no-collector.systemd  # no systemd here; it would log an error every scrape
}

node-exporter_ready() {
    local body
    body=$(curl -fsS --noproxy '*' --max-time 3 "http://$HOST:$NODE_EXPORTER_PORT/metrics" 2>/dev/null) || return 1
    [[ $body == *$'\nnode_exporter_build_info'* ]]
}

# ----------------------------------------------------------------- mariadb ---

mariadb_client() {  # root over our private socket (unix_socket auth: OS root = DB root)
    mariadb --defaults-file="$M_DIR/my.cnf" --user=root "$@"
}

mariadb_start() {
    id mysql >/dev/null 2>&1 || die "user mysql does not exist (run: $0 install)"
    need_root "starting mariadbd --user=mysql"
    mkdir -p "$M_DIR"
    # AF_UNIX paths are limited to 107 bytes.
    ((${#M_DIR} + 12 <= 107)) || die "mariadb: socket path $M_DIR/mysqld.sock is too long; use a shorter checkout path"
    write_if_changed "$M_DIR/my.cnf" <<EOF
# generated by scripts/services.sh -- private test instance, not the system one
[mysqld]
user                           = mysql
datadir                        = $M_DIR/data
socket                         = $M_DIR/mysqld.sock
pid-file                       = $M_DIR/mariadbd.pid
log-error                      = $M_DIR/mariadb.log
port                           = $MARIADB_PORT
bind-address                   = $HOST
skip-name-resolve
character-set-server           = utf8mb4
collation-server               = utf8mb4_general_ci
innodb_buffer_pool_size        = 128M
innodb_log_file_size           = 48M
# tests do not need durability across power loss
innodb_flush_log_at_trx_commit = 2
max_connections                = 300

[client]
socket                         = $M_DIR/mysqld.sock
port                           = $MARIADB_PORT
EOF
    # mariadbd runs as mysql: it needs to own its directory (socket, pid, log, data).
    chown mysql:mysql "$M_DIR"
    if [[ ! -d $M_DIR/data/mysql ]]; then
        say "mariadb: initialising $M_DIR/data ..."
        rm -rf "$M_DIR/data.init"
        install -d -o mysql -g mysql -m 750 "$M_DIR/data.init"
        if ! mariadb-install-db --defaults-file="$M_DIR/my.cnf" --datadir="$M_DIR/data.init" \
                --auth-root-authentication-method=socket --skip-test-db \
                >"$M_DIR/install-db.log" 2>&1; then
            tail_log "$M_DIR/install-db.log"
            die "mariadb-install-db failed (see $M_DIR/install-db.log)"
        fi
        rm -rf "$M_DIR/data"
        mv -T "$M_DIR/data.init" "$M_DIR/data"
    fi
    chown -R mysql:mysql "$M_DIR"
    rotate_log "$(log_of mariadb)"
    chown mysql:mysql "$(log_of mariadb)"
    # --defaults-file must be the first option; it is also our process marker.
    launch mariadb "$M_DIR" "$(log_of mariadb)" \
        "$MARIADBD_BIN" "--defaults-file=$M_DIR/my.cnf"
}

mariadb_tcp_login() {  # the tests' view: monitoring/monitoring over TCP
    MYSQL_PWD=$DB_PASSWORD mariadb --no-defaults --protocol=TCP --host="$HOST" --port="$MARIADB_PORT" \
        --user="$DB_USER" --connect-timeout=3 -N -e 'SELECT 1' "$DB_NAME" >/dev/null 2>&1
}

mariadb_provision() {
    mariadb_client --batch <<EOF
CREATE DATABASE IF NOT EXISTS \`$DB_NAME\` CHARACTER SET utf8mb4;
CREATE USER IF NOT EXISTS '$DB_USER'@'127.0.0.1' IDENTIFIED BY '$DB_PASSWORD';
CREATE USER IF NOT EXISTS '$DB_USER'@'localhost' IDENTIFIED BY '$DB_PASSWORD';
ALTER USER '$DB_USER'@'127.0.0.1' IDENTIFIED BY '$DB_PASSWORD';
ALTER USER '$DB_USER'@'localhost' IDENTIFIED BY '$DB_PASSWORD';
GRANT ALL PRIVILEGES ON \`$DB_NAME\`.* TO '$DB_USER'@'127.0.0.1', '$DB_USER'@'localhost';
-- throwaway databases created by the tests: monitoring_<anything>
GRANT ALL PRIVILEGES ON \`${DB_NAME}\\_%\`.* TO '$DB_USER'@'127.0.0.1', '$DB_USER'@'localhost';
EOF
}

MARIADB_PROVISIONED=0
mariadb_ready() {
    if our_pid mariadb >/dev/null; then
        [[ -S $M_DIR/mysqld.sock ]] || return 1
        if ((MARIADB_PROVISIONED == 0)); then
            mariadb-admin --defaults-file="$M_DIR/my.cnf" --user=root --connect-timeout=3 ping >/dev/null 2>&1 || return 1
            mariadb_provision || return 1
            MARIADB_PROVISIONED=1
        fi
    fi
    mariadb_tcp_login
}

# ------------------------------------------------------------ alertmanager ---

alertmanager_start() {
    mkdir -p "$A_DIR/data"
    # One webhook receiver on loopback; every alert its own group, sent within a
    # second and its resolution too (the alerting integration test waits on it).
    write_if_changed "$A_DIR/alertmanager.yml" <<EOF
# generated by scripts/services.sh
route:
  receiver: webhook
  group_by: ['...']
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 4h
receivers:
  - name: webhook
    webhook_configs:
      - url: http://$HOST:$ALERTMANAGER_WEBHOOK_PORT/alerts
        send_resolved: true
EOF
    rotate_log "$(log_of alertmanager)"
    # --cluster.listen-address= (empty): no gossip port, a single instance.
    launch alertmanager "$A_DIR" "$(log_of alertmanager)" \
        "$ALERTMANAGER_BIN" \
        "--config.file=$A_DIR/alertmanager.yml" \
        "--storage.path=$A_DIR/data" \
        "--web.listen-address=$HOST:$ALERTMANAGER_PORT" \
        "--cluster.listen-address="
}

alertmanager_ready() {
    curl -fsS --noproxy '*' --max-time 3 -o /dev/null "http://$HOST:$ALERTMANAGER_PORT/-/ready" 2>/dev/null
}

# ------------------------------------------------------------------- kafka ---

kafka_java() {  # kafka_java MAIN-CLASS ARGS...
    "$JAVA_BIN" -Xmx256m -XX:TieredStopAtLevel=1 \
        "-Dlog4j2.configurationFile=$SCRIPT_DIR/kafka/log4j2.yaml" \
        -cp "$KAFKA_JARS/*" "$@"
}

kafka_start() {
    command -v "$JAVA_BIN" >/dev/null || die "java not found (run: $0 install)"
    mkdir -p "$K_DIR/data"
    write_if_changed "$K_DIR/server.properties" <<EOF
# generated by scripts/services.sh -- single-node KRaft (broker + controller)
process.roles=broker,controller
node.id=1
listeners=PLAINTEXT://$HOST:$KAFKA_PORT,CONTROLLER://$HOST:$KAFKA_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://$HOST:$KAFKA_PORT,CONTROLLER://$HOST:$KAFKA_CONTROLLER_PORT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
controller.listener.names=CONTROLLER
controller.quorum.bootstrap.servers=$HOST:$KAFKA_CONTROLLER_PORT
log.dirs=$K_DIR/data
num.partitions=4
auto.create.topics.enable=true
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
# KIP-848 groups (the sharded ETL, ADR 0055): a killed worker's shards move
# after 10 s instead of the 45 s default; a restart within it keeps them.
group.consumer.session.timeout.ms=10000
group.consumer.min.session.timeout.ms=5000
group.consumer.heartbeat.interval.ms=2000
group.consumer.min.heartbeat.interval.ms=1000
log.retention.hours=168
EOF
    kafka_probe_config
    if [[ ! -f $K_DIR/data/meta.properties ]]; then
        [[ -s $K_DIR/cluster.id ]] ||
            kafka_java kafka.tools.StorageTool random-uuid 2>>"$K_DIR/format.log" | tail -n 1 >"$K_DIR/cluster.id"
        [[ -s $K_DIR/cluster.id ]] || { tail_log "$K_DIR/format.log"; die "kafka: could not generate a cluster id"; }
        say "kafka: formatting $K_DIR/data (cluster id $(<"$K_DIR/cluster.id")) ..."
        if ! kafka_java kafka.tools.StorageTool format --standalone --ignore-formatted \
                -t "$(<"$K_DIR/cluster.id")" -c "$K_DIR/server.properties" >>"$K_DIR/format.log" 2>&1; then
            tail_log "$K_DIR/format.log"
            die "kafka: storage format failed (see $K_DIR/format.log)"
        fi
    fi
    rotate_log "$(log_of kafka)"
    : >"$K_DIR/probe.log"
    launch kafka "$K_DIR" "$(log_of kafka)" \
        "$JAVA_BIN" -Xms256m -Xmx512m -XX:+ExitOnOutOfMemoryError -Djava.awt.headless=true \
        "-Dlog4j2.configurationFile=$SCRIPT_DIR/kafka/log4j2.yaml" \
        "-Dkafka.logs.dir=$K_DIR" \
        -cp "$KAFKA_JARS/*" kafka.Kafka "$K_DIR/server.properties"
}

kafka_probe_config() {  # also needed to probe a broker another checkout started
    mkdir -p "$K_DIR"
    write_if_changed "$K_DIR/probe.properties" <<EOF
request.timeout.ms=5000
default.api.timeout.ms=10000
EOF
}

kafka_ready() {
    port_open "$KAFKA_PORT" || return 1
    kafka_probe_config
    # A real admin round-trip (metadata from the broker), not just a TCP connect.
    timeout 30 "$JAVA_BIN" -Xmx128m -XX:TieredStopAtLevel=1 \
        -cp "$KAFKA_JARS/*" org.apache.kafka.tools.TopicCommand \
        --bootstrap-server "$HOST:$KAFKA_PORT" --command-config "$K_DIR/probe.properties" \
        --list >"$K_DIR/probe.log" 2>&1
}

# -------------------------------------------------------------- up/down/... ---

ready() { "$1_ready"; }

wait_ready() {  # wait_ready NAME: poll NAME_ready for READY_TIMEOUT seconds
    local name=$1 deadline pid=
    deadline=$(( $(now_us) + READY_TIMEOUT * 1000000 ))
    # cmd_up removed stale pid files, so a pid file here means "ours".
    [[ -f $(pid_file "$name") ]] && pid=$(<"$(pid_file "$name")")
    while ! ready "$name"; do
        if [[ -n $pid ]] && ! pid_matches "$pid" "$(marker "$name")"; then
            tail_log "$(log_of "$name")"
            die "$name (pid $pid) exited before becoming ready (log: $(log_of "$name"))"
        fi
        if (( $(now_us) > deadline )); then
            if [[ -z $pid ]]; then
                die "$name: the server on $HOST:$(port_of "$name") (not started by services.sh) is not ready after ${READY_TIMEOUT}s"
            fi
            tail_log "$(log_of "$name")"
            if [[ $name == kafka ]]; then tail_log "$K_DIR/probe.log"; fi
            die "$name not ready after ${READY_TIMEOUT}s (log: $(log_of "$name"))"
        fi
        sleep 0.5
    done
}

cmd_up() {
    lock
    ensure_installed
    local name pid port
    local -A start_us=() action=()
    for name in "${SERVICES[@]}"; do
        port=$(port_of "$name")
        if pid=$(our_pid "$name"); then
            action[$name]=running
            say "$name already running (pid $pid)"
            if declare -F "${name}_refresh" >/dev/null; then "${name}_refresh"; fi
            continue
        fi
        if [[ -f $(pid_file "$name") ]]; then
            say "$name: removing stale pid file (pid $(<"$(pid_file "$name")") is gone)"
            rm -f "$(pid_file "$name")"
        fi
        if port_open "$port"; then
            action[$name]=foreign
            say "$name: $HOST:$port is already served by a process not started by services.sh; using it as is"
            continue
        fi
        say "starting $name ..."
        start_us[$name]=$(now_us)
        action[$name]=started
        "${name}_start"
    done
    if [[ -n ${MONITORING_SERVICES_STARTED_FILE:-} ]]; then
        for name in "${SERVICES[@]}"; do
            printf '%s %s\n' "${action[$name]}" "$name"
        done >"$MONITORING_SERVICES_STARTED_FILE"
    fi
    for name in "${SERVICES[@]}"; do
        case ${action[$name]} in
            started)
                wait_ready "$name"
                say "$name ready ($(elapsed "${start_us[$name]}")s, pid $(our_pid "$name"))"
                ;;
            *)
                wait_ready "$name"
                ;;
        esac
    done
    say "all services up (logs under $SERVICES_DIR)"
}

cmd_down() {
    lock
    local i
    for ((i = ${#SERVICES[@]} - 1; i >= 0; i--)); do
        stop_one "${SERVICES[i]}"
    done
}

cmd_status() {
    local name pid state owner rc=0
    for name in "${SERVICES[@]}"; do
        if pid=$(our_pid "$name"); then
            owner="pid $pid, started by services.sh"
        elif port_open "$(port_of "$name")"; then
            owner="not started by services.sh"
        else
            owner=""
        fi
        if ready "$name"; then
            state=up
        elif [[ -n $owner ]]; then
            state="NOT READY"
            rc=3
        else
            state=down
            rc=3
        fi
        printf '%-14s %-10s %-6s %s\n' "$name" "$state" "$(port_of "$name")" "${owner:+($owner)}"
    done
    return "$rc"
}

cmd_env() {
    cat <<EOF
export MONITORING_TEST_PROMETHEUS_URL=http://$HOST:$PROMETHEUS_PORT
export MONITORING_TEST_KAFKA_BOOTSTRAP=$HOST:$KAFKA_PORT
export MONITORING_TEST_DATABASE_URL=mysql+pymysql://$DB_USER:$DB_PASSWORD@$HOST:$MARIADB_PORT/$DB_NAME
export MONITORING_TEST_NODE_EXPORTER_URL=http://$HOST:$NODE_EXPORTER_PORT
export MONITORING_TEST_PROMETHEUS_BIN=$PROMETHEUS_BIN
export MONITORING_TEST_PROMTOOL_BIN=$PROMTOOL_BIN
export MONITORING_TEST_PROMETHEUS_RULES_DIR=$P_DIR/rules
export MONITORING_TEST_ALERTMANAGER_URL=http://$HOST:$ALERTMANAGER_PORT
export MONITORING_TEST_ALERTMANAGER_WEBHOOK_PORT=$ALERTMANAGER_WEBHOOK_PORT
export MONITORING_TEST_SLOTH_BIN=$SLOTH_BIN
EOF
}

usage() {
    sed -n '2,10p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
}

select_services() {  # select_services NAME...: manage only these, in start order
    local n all=("${SERVICES[@]}") chosen=()
    for n in "$@"; do
        [[ " ${all[*]} " == *" $n "* ]] || die "unknown service $n (known: ${all[*]})"
    done
    for n in "${all[@]}"; do
        [[ " $* " == *" $n "* ]] && chosen+=("$n")
    done
    SERVICES=("${chosen[@]}")
}

main() {
    case ${1:-} in
        install) cmd_install ;;
        up)      shift; (($# == 0)) || select_services "$@"; cmd_up ;;
        down)    shift; (($# == 0)) || select_services "$@"; cmd_down ;;
        status)  cmd_status ;;
        env)     cmd_env ;;
        -h|--help|help) usage ;;
        *) usage >&2; exit 2 ;;
    esac
}

main "$@"
