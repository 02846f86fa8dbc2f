#!/usr/bin/env bash
# Regenerates docs/perf/tag-workers-*.json and the charts in docs/perf/:
#   throughput.png  relay, pipeline and enrich stories/s against tag workers,
#                   the pipeline with stored and with live node notifications
#   latency.png     ingest-to-published p50/p90/p99 at half throughput
# Runs 'wirestream bench' once per tag-worker setting and --node-subjects mode
# (under a minute each on 2 cores), then plots with matplotlib (Debian:
# apt-get install python3-matplotlib).
#
#   bash docs/perf/chart.sh [STORIES]
set -euo pipefail
cd "$(dirname "$0")/../.."
stories=${1:-5000}
bin=$(mktemp -d)/wirestream
go build -o "$bin" ./cmd/wirestream
rm -f docs/perf/tag-workers-*.json
for mode in stored live; do
  for tw in 1 2 4 8; do
    echo "bench: --tag-workers $tw --node-subjects $mode" >&2
    "$bin" bench --stories "$stories" --tag-workers "$tw" --node-subjects "$mode" --json > "docs/perf/tag-workers-$tw-$mode.json"
  done
done
if ! /usr/bin/python3 -c 'import matplotlib' 2>/dev/null; then
  echo "matplotlib missing: apt-get install -y python3-matplotlib" >&2
  exit 1
fi
/usr/bin/python3 docs/perf/chart.py docs/perf
