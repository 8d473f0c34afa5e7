"""Turns the figures bench/run.sh measured (a key<TAB>value file) into the benchmark's Markdown table:
each platform case beside its yardstick from the same run, the ratio, the issue's target and
PASS/FAIL. A FAIL is a finding, so this never exits non-zero for one; it fails only when a figure is
missing, which means the run itself went wrong.

    python3 bench/report.py results.tsv > bench/results/latest.md
"""

import sys

BACKENDS = [("sqlite", "SQLite"), ("postgres", "PostgreSQL + Redis")]
RSS_LIMIT_MB = 96
P99_LIMIT_MS = 100


def load(path):
    figures = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            key, _, value = line.rstrip("\n").partition("\t")
            figures[key] = value
    return figures


def main():
    r = load(sys.argv[1])

    def num(key):
        return float(r[key])

    def mean(key):
        # Yardsticks run at the start and at the end; the machine drifts between the two.
        return (num(f"{key}.1.rps") + num(f"{key}.2.rps")) / 2

    axum, tonic = mean("yard.axum"), mean("yard.tonic")
    # What each platform case is measured against: (label, req/s).
    beside = {
        "axum": ("axum hello (mean)", axum),
        "tonic": ("tonic hello (mean)", tonic),
        "config": ("seed stack config", num("seed.config.rps")),
        "catalog": ("seed stack catalog page", num("seed.catalog.rps")),
        "order": ("seed stack order", num("seed.order.rps")),
        "reserve": ("seed stack reserve", num("seed.reserve.rps")),
        "ceiling": ("pg-ceiling order-txn", num("pg.ceiling.rps")),
    }
    # (case key, label, [(yardstick, {backend: minimum ratio} or None for information only)]).
    cases = [
        ("boot", "boot config GET /api/v1/app/config (cached)", [("axum", None), ("config", None)]),
        ("menu", "menu GET /api/v1/menu (cached)", [("axum", {"sqlite": 0.3, "postgres": 0.3})]),
        ("menu_uncached", "menu of 50 products, first read after a catalog write (menu-load, a shop per connection)",
         [("catalog", {"sqlite": 2, "postgres": 2})]),
        ("order", "create order POST /api/v1/orders",
         [("order", {"sqlite": 1.5, "postgres": 2}), ("ceiling", {"postgres": 0.5})]),
        ("order_coupon", "create order with a coupon (coupon-order-load, each order picks one)",
         [("order", {"sqlite": 1.5, "postgres": 2}), ("ceiling", {"postgres": 0.5})]),
        ("grpc", "gRPC TenantService.GetAppConfig (4 conns, 64 in flight)",
         [("tonic", {"sqlite": 0.5, "postgres": 0.5})]),
        ("slots", "gRPC ListAvailableSlots, 7 days (16 in flight)", []),
        ("holds", "gRPC HoldReservation (16 in flight)", [("reserve", {"sqlite": 1.5, "postgres": 2})]),
    ]

    verdicts = []

    def verdict(ok, errors=0):
        v = "PASS" if ok and errors == 0 else "FAIL"
        verdicts.append(v)
        return v if errors == 0 else f"FAIL ({errors:.0f} errors)"

    out = []
    out.append(f"## MiniModules benchmark ({r['meta.start']}, {r['meta.cores']} cores, "
               f"{r['meta.seconds']} s per case)\n")
    out.append("### Yardsticks, measured in this run\n")
    out.append("| yardstick | req/s | p99 ms | errors |")
    out.append("|---|---:|---:|---:|")
    for key, label in [("yard.axum", "axum hello JSON GET /hello, wrk 64 conns"),
                       ("yard.tonic", "tonic hello unary GetAppConfig, grpc-load 4 conns x 64")]:
        out.append(f"| {label} (start {num(key + '.1.rps'):,.0f}, end {num(key + '.2.rps'):,.0f}) "
                   f"| {mean(key):,.0f} | {r[key + '.1.p99']} / {r[key + '.2.p99']} "
                   f"| {int(num(key + '.1.err') + num(key + '.2.err'))} |")
    for key, label in [("config", "boot config from Redis"), ("catalog", "50-product catalog page"),
                       ("order", "order in a transaction with a price check"),
                       ("reserve", "slot reserved without overbooking")]:
        out.append(f"| seed stack {key}: {label}, wrk 64 conns | {num(f'seed.{key}.rps'):,.0f} "
                   f"| {r[f'seed.{key}.p99']} | |")
    out.append(f"| pg-ceiling order-txn: pgbench BEGIN; order + 3 items; COMMIT, 16 clients (tps) "
               f"| {num('pg.ceiling.rps'):,.0f} | | |")

    for backend, title in BACKENDS:
        out.append(f"\n### The platform on {title}\n")
        out.append("| case | req/s | p99 ms | errors | beside | its req/s | ratio | target | verdict |")
        out.append("|---|---:|---:|---:|---|---:|---:|---|---|")
        for key, label, against in cases:
            rps, p99, errors = (num(f"{backend}.{key}.{f}") for f in ("rps", "p99", "err"))
            head = f"| {label} | {rps:,.0f} | {p99:.2f} | {errors:.0f}"
            if not against:
                out.append(f"{head} | | | | | |")
            for yard, targets in against:
                name, yard_rps = beside[yard]
                ratio = rps / yard_rps if yard_rps else 0.0
                target = (targets or {}).get(backend)
                if target is None:
                    out.append(f"{head} | {name} | {yard_rps:,.0f} | {ratio:.2f} | | |")
                else:
                    out.append(f"{head} | {name} | {yard_rps:,.0f} | {ratio:.2f} | >= {target:g} "
                               f"| {verdict(ratio >= target, errors)} |")
                head = "| ″ | | |"
            if key in ("order", "order_coupon"):
                what = "create order" if key == "order" else "create order with a coupon"
                out.append(f"| {what}, p99 at 64 connections | | {p99:.2f} | | | | "
                           f"| < {P99_LIMIT_MS} ms | {verdict(p99 < P99_LIMIT_MS)} |")
        rss_mb = num(f"{backend}.rss_kb") / 1024
        out.append(f"| server RSS after all cases (VmRSS) | | | | | | | <= {RSS_LIMIT_MB} MB "
                   f"({rss_mb:.1f} MB) | {verdict(rss_mb <= RSS_LIMIT_MB)} |")

    passed = verdicts.count("PASS")
    out.append(f"\nTargets: {passed} of {len(verdicts)} PASS. Ratios compare figures of this run "
               f"only (case req/s / yardstick req/s). wrk -t2 -c64 -d{r['meta.seconds']}s; the seed "
               f"stack reports the median of {r['meta.seed_runs']} run(s) per case; load, client and "
               f"server share this machine's cores. Load average at the start {r['meta.load_start']}, "
               f"at the end {r['meta.load_end']}.")
    print("\n".join(out))


if __name__ == "__main__":
    main()
