#!/usr/bin/env bash
# `make demo`: the whole system in one process on this machine.
#
# Starts a local Prometheus and node-exporter with scripts/services.sh unless
# MONITORING_PROMETHEUS_URL is set, waits until Prometheus holds two minutes of
# node-exporter samples (the first forecasts need them), then runs
# `monitoring run` in the foreground: SQLite storage, in-process bus, REST API
# and SLA manager. Ctrl-C stops it after storing what was computed.
# Any MONITORING_* variable set by the caller wins over the demo's defaults.
set -euo pipefail
cd "$(dirname "$0")/.."
MONITORING=${MONITORING_BIN:-.venv/bin/monitoring}

if [[ -z ${MONITORING_PROMETHEUS_URL:-} ]]; then
    scripts/services.sh up node-exporter prometheus
    export MONITORING_PROMETHEUS_URL=http://127.0.0.1:${MONITORING_PROMETHEUS_PORT:-19090}
fi
mkdir -p .demo
export MONITORING_DATABASE_URL=${MONITORING_DATABASE_URL:-sqlite:///$PWD/.demo/monitoring.db}
export MONITORING_CYCLE_SECONDS=${MONITORING_CYCLE_SECONDS:-30}
export MONITORING_FORECAST_STEP=${MONITORING_FORECAST_STEP:-5s}
export MONITORING_FORECAST_LOOKBACK=${MONITORING_FORECAST_LOOKBACK:-2h}
export MONITORING_METADATA_LOOKBACK=${MONITORING_METADATA_LOOKBACK:-2h}
export MONITORING_METADATA_STEP=${MONITORING_METADATA_STEP:-15s}
export MONITORING_API_PORT=${MONITORING_API_PORT:-8080}
export MONITORING_GRPC_PORT=${MONITORING_GRPC_PORT:-50051}
export MONITORING_SLA_ADDRESS=${MONITORING_SLA_ADDRESS:-127.0.0.1:$MONITORING_GRPC_PORT}

# Two minutes of samples: 24 at the 5 s scrape interval of services.sh.
need=24
printf 'demo: waiting for %s to hold 2 minutes of node-exporter samples ' "$MONITORING_PROMETHEUS_URL"
for _ in $(seq 1 90); do
    have=$(curl -s --noproxy '*' --max-time 5 "$MONITORING_PROMETHEUS_URL/api/v1/query" \
        --data-urlencode 'query=max(count_over_time(node_load1[2m]))' |
        sed -n 's/.*"value":\[[^,]*,"\([0-9]*\)".*/\1/p')
    if [[ ${have:-0} -ge $need ]]; then break; fi
    printf '.'
    sleep 5
done
printf ' %s samples\n' "${have:-0}"

cat <<EOF

demo: once the first cycle is done, try
  curl -s 'http://127.0.0.1:$MONITORING_API_PORT/v1/series?match[]=node_load1' | python3 -m json.tool
  open http://127.0.0.1:$MONITORING_API_PORT/docs for every route
  $MONITORING sla apply -f examples/sla.yaml
  $MONITORING sla violations node-health --window 1h,3h,12h
  $MONITORING sla predict node-health --horizon 10m
(in another terminal, with MONITORING_SLA_ADDRESS=$MONITORING_SLA_ADDRESS)

EOF
exec "$MONITORING" run
