"""Plot wirestream bench results (docs/perf/tag-workers-*.json) as PNG charts."""
import glob
import json
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

out = sys.argv[1] if len(sys.argv) > 1 else "docs/perf"
by_mode = {}
for path in glob.glob(os.path.join(out, "tag-workers-*.json")):
    with open(path) as f:
        r = json.load(f)
    by_mode.setdefault(r.get("node_subjects", "stored"), []).append(r)
if "stored" not in by_mode:
    sys.exit("no tag-workers-*-stored.json in " + out)
for rs in by_mode.values():
    rs.sort(key=lambda r: r["tag_workers"])
runs = by_mode["stored"]
tw = [r["tag_workers"] for r in runs]

fig, ax = plt.subplots(figsize=(7, 4.5))
series = [(runs, "relay_per_s", "relay chain (broker ceiling)"), (runs, "pipeline_per_s", "pipeline, stored node notifications")]
if "live" in by_mode:
    series.append((by_mode["live"], "pipeline_per_s", "pipeline, live node notifications"))
series.append((runs, "enrich_per_s", "offline enrich"))
for rs, key, label in series:
    ax.plot([r["tag_workers"] for r in rs], [r[key] for r in rs], marker="o", label=label)
ax.set_xscale("log", base=2)
ax.set_xticks(tw, [str(x) for x in tw])
ax.set_xlabel("tag stage workers")
ax.set_ylabel("stories/s")
ax.set_title("wirestream bench, %d stories of ~%d bytes, %d cores" % (runs[0]["stories"], runs[0]["size_bytes"], runs[0]["cores"]))
ax.grid(True, alpha=0.3)
ax.legend(loc="best", fontsize="small")
fig.tight_layout()
fig.savefig(os.path.join(out, "throughput.png"), dpi=110)

modes = [m for m in ("stored", "live") if m in by_mode]
fig, axes = plt.subplots(1, len(modes), figsize=(6 * len(modes), 4), sharey=True, squeeze=False)
width = 0.25
top = max(r["p99_ms"] for m in modes for r in by_mode[m])
for ax, mode in zip(axes[0], modes):
    rs = by_mode[mode]
    for i, (key, label) in enumerate((("p50_ms", "p50"), ("p90_ms", "p90"), ("p99_ms", "p99"))):
        ax.bar([j + (i - 1) * width for j in range(len(rs))], [r[key] for r in rs], width, label=label)
    ax.axhline(25, color="black", linestyle="--", linewidth=1, label="p99 target (25 ms)")
    ax.set_xticks(range(len(rs)), ["%d tag workers\n(%.0f/s)" % (r["tag_workers"], r["latency_rate_per_s"]) for r in rs])
    ax.set_title("%s node notifications" % mode)
    ax.grid(True, axis="y", alpha=0.3)
    ax.set_ylim(0, max(30, top * 1.1))
axes[0][0].set_ylabel("ingest to published, ms")
axes[0][-1].legend(loc="upper right", fontsize="small")
fig.suptitle("Latency at half the pipeline's throughput")
fig.tight_layout()
fig.savefig(os.path.join(out, "latency.png"), dpi=110)
print("wrote", os.path.join(out, "throughput.png"), "and", os.path.join(out, "latency.png"))
