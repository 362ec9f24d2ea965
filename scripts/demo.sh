#!/usr/bin/env bash
# `make demo`: the whole system in one process on this machine.
#
# Starts a local Prometheus and node-exporter with scripts/services.sh unless
# MONITORING_PROMETHEUS_URL is set, waits until Prometheus holds two minutes of
# node-exporter samples (the first forecasts need them; MONITORING_DEMO_SAMPLES,
# default 24 at the 5 s scrape interval), then runs `monitoring run`: SQLite
# storage, in-process bus, REST API and SLA manager.
#
# With the Prometheus of scripts/services.sh, the demo also keeps the alert rules
# of every SLA in that Prometheus (MONITORING_RULES_FILE in its rules/ directory,
# reloaded through MONITORING_PROMETHEUS_RELOAD_URL on every SLA change, ADR 0048)
# and has it scrape the demo's /metrics (the SLA gauges the alerts read); both
# files are removed when the demo ends. A Prometheus given by
# MONITORING_PROMETHEUS_URL, or not started by services.sh, is never touched.
#
# Ctrl-C (SIGINT) or SIGTERM stops `monitoring run` after it stored what was
# computed, then stops the Prometheus and node-exporter that this demo started.
# Servers that were already running (make services-up, make test) or given by
# MONITORING_PROMETHEUS_URL are left alone, and the demo says so.
# Any MONITORING_* variable set by the caller wins over the demo's defaults.
set -euo pipefail
cd "$(dirname "$0")/.."
MONITORING=${MONITORING_BIN:-.venv/bin/monitoring}

started=()  # services this demo started: stopped when it ends
kept=()     # services services.sh had started before it: left alone
foreign=()  # services whose port something else serves: left alone
child=      # the pid of `monitoring run`
given_url=${MONITORING_PROMETHEUS_URL:-}
services_record=$(mktemp "${TMPDIR:-/tmp}/demo-services.XXXXXX")
wired=()    # files this demo put into the services.sh Prometheus: removed when it ends

finish() {
    local code=$?
    trap - EXIT INT TERM
    if [[ -n $child ]] && kill -0 "$child" 2>/dev/null; then
        kill -TERM "$child" 2>/dev/null || true
        wait "$child" 2>/dev/null || true
    fi
    # A background `sleep` of the wait loop ignores SIGINT (as every background
    # job of a script does): end it too.
    kill $(jobs -p) 2>/dev/null || true
    read_record
    rm -f "$services_record"
    unwire
    if ((${#started[@]})); then
        printf 'demo: stopping %s (started by the demo)\n' "${started[*]}"
        scripts/services.sh down "${started[@]}" || code=1
    fi
    if [[ -n $given_url ]]; then
        printf 'demo: %s was given by MONITORING_PROMETHEUS_URL and is left alone\n' "$given_url"
    fi
    if ((${#kept[@]})); then
        printf 'demo: left running (up before the demo): %s; stop with: make services-down\n' "${kept[*]}"
    fi
    if ((${#foreign[@]})); then
        printf 'demo: left running (not started by scripts/services.sh): %s\n' "${foreign[*]}"
    fi
    exit "$code"
}

read_record() {  # the services.sh `up` record: "started NAME", "running NAME", "foreign NAME"
    local action name
    started=() kept=() foreign=()
    [[ -f $services_record ]] || return 0
    while read -r action name; do
        case $action in
            started) started+=("$name") ;;
            running) kept+=("$name") ;;
            *) foreign+=("$name") ;;
        esac
    done <"$services_record"
}

unwire() {  # take the demo's rule file and scrape target out of a Prometheus left running
    ((${#wired[@]})) || return 0
    rm -f "${wired[@]}"
    wired=()
    if [[ " ${kept[*]} " == *" prometheus "* ]]; then
        curl -fsS --noproxy '*' --max-time 10 -X POST -o /dev/null "$MONITORING_PROMETHEUS_URL/-/reload" ||
            printf 'demo: could not reload %s after removing the demo rules\n' "$MONITORING_PROMETHEUS_URL"
    fi
}

wire_prometheus() {  # the services.sh Prometheus loads rules/*.yml and file_sd targets/*.yml
    local rules_dir
    rules_dir=$(scripts/services.sh env | sed -n 's/^export MONITORING_TEST_PROMETHEUS_RULES_DIR=//p')
    if [[ -z $rules_dir || ! -d $rules_dir ]]; then
        printf 'demo: %s has no rules directory; alert rules are not wired\n' "$MONITORING_PROMETHEUS_URL"
        return 0
    fi
    export MONITORING_RULES_FILE=${MONITORING_RULES_FILE:-$rules_dir/monitoring-demo.yml}
    export MONITORING_PROMETHEUS_RELOAD_URL=${MONITORING_PROMETHEUS_RELOAD_URL:-$MONITORING_PROMETHEUS_URL/-/reload}
    wired+=("$MONITORING_RULES_FILE")
    local targets="${rules_dir%/rules}/targets/monitoring-demo.yml"
    printf -- "- targets: ['127.0.0.1:%s']\n  labels: {service: monitoring-demo}\n" "$MONITORING_API_PORT" >"$targets"
    wired+=("$targets")
}

on_signal() {  # stop `monitoring run` (it stores what it computed), then finish on EXIT
    # SIGTERM whatever arrived: a background child of a script starts with
    # SIGINT ignored until `monitoring run` installs its handlers (which treat
    # both alike); a terminal's Ctrl-C reached it too.
    if [[ -n $child ]]; then
        kill -TERM "$child" 2>/dev/null || true
        wait "$child" 2>/dev/null || true
    fi
    exit "$1"
}

trap finish EXIT
trap 'on_signal 130' INT
trap 'on_signal 143' TERM

if [[ -z ${MONITORING_PROMETHEUS_URL:-} ]]; then
    MONITORING_SERVICES_STARTED_FILE=$services_record scripts/services.sh up node-exporter prometheus
    export MONITORING_PROMETHEUS_URL=http://127.0.0.1:${MONITORING_PROMETHEUS_PORT:-19090}
else
    : >"$services_record"
fi
mkdir -p .demo
export MONITORING_DATABASE_URL=${MONITORING_DATABASE_URL:-sqlite:///$PWD/.demo/monitoring.db}
export MONITORING_CYCLE_SECONDS=${MONITORING_CYCLE_SECONDS:-30}
export MONITORING_FORECAST_STEP=${MONITORING_FORECAST_STEP:-5s}
export MONITORING_FORECAST_LOOKBACK=${MONITORING_FORECAST_LOOKBACK:-2h}
export MONITORING_METADATA_LOOKBACK=${MONITORING_METADATA_LOOKBACK:-2h}
export MONITORING_METADATA_STEP=${MONITORING_METADATA_STEP:-15s}
# The demo's history starts empty: retry insufficient metadata every 10 minutes.
export MONITORING_METADATA_RETRY_SECONDS=${MONITORING_METADATA_RETRY_SECONDS:-600}
export MONITORING_API_PORT=${MONITORING_API_PORT:-8080}
export MONITORING_GRPC_PORT=${MONITORING_GRPC_PORT:-50051}
export MONITORING_SLA_ADDRESS=${MONITORING_SLA_ADDRESS:-127.0.0.1:$MONITORING_GRPC_PORT}
if [[ -z $given_url ]]; then
    read_record
    if ((${#foreign[@]})) && [[ " ${foreign[*]} " == *" prometheus "* ]]; then
        printf 'demo: the Prometheus on %s was not started by services.sh; alert rules are not wired\n' "$MONITORING_PROMETHEUS_URL"
    else
        wire_prometheus
    fi
fi

# Two minutes of samples: 24 at the 5 s scrape interval of services.sh.
need=${MONITORING_DEMO_SAMPLES:-24}
have=0
printf 'demo: waiting for %s to hold %s node-exporter samples ' "$MONITORING_PROMETHEUS_URL" "$need"
for _ in $(seq 1 90); do
    have=$(curl -s --noproxy '*' --max-time 5 "$MONITORING_PROMETHEUS_URL/api/v1/query" \
        --data-urlencode 'query=max(count_over_time(node_load1[2m]))' |
        sed -n 's/.*"value":\[[^,]*,"\([0-9]*\)".*/\1/p') || true
    if [[ ${have:-0} -ge $need ]]; then break; fi
    printf '.'
    sleep 5 &  # in the background: a signal's trap runs at once, not after the sleep
    wait $! || true
done
printf ' %s samples\n' "${have:-0}"

cat <<EOF

demo: once the first cycle is done, try
  curl -s 'http://127.0.0.1:$MONITORING_API_PORT/v1/series?match[]=node_load1' | python3 -m json.tool
  open http://127.0.0.1:$MONITORING_API_PORT/docs for every route
  $MONITORING sla apply -f examples/sla.yaml
  $MONITORING sla status node-health
  $MONITORING sla violations node-health --window 5m,15m
  $MONITORING sla predict node-health --horizon 10m
  open ${MONITORING_PROMETHEUS_URL}/alerts for the rules of every SLA${MONITORING_RULES_FILE:+ (kept in $MONITORING_RULES_FILE)}
(in another terminal, with MONITORING_SLA_ADDRESS=$MONITORING_SLA_ADDRESS)
Ctrl-C stops the demo and the servers it started.

EOF
# In the background so that a SIGTERM to this script is forwarded at once (a
# foreground child would delay the trap until it exits).
"$MONITORING" run &
child=$!
status=0
wait "$child" || status=$?
# A signal interrupts `wait`: on_signal then waits for the child itself.
child=
exit "$status"
