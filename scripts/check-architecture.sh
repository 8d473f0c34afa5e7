#!/usr/bin/env bash
# Architecture rule: a module crate (crates/modules/*) depends on mm-kernel, mm-proto, the kits
# every module shares (mm-bff for its JSON routes, mm-migrations for its schema) and
# module-agnostic protocol libraries (mm-wechatpay) only, never on another module or the server;
# the kernel, the contracts and the kits depend on no module.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo metadata --format-version 1 --no-deps --locked | python3 -c '
import json, sys
meta = json.load(sys.stdin)
ours = {p["name"]: p for p in meta["packages"]}
modules = {n for n, p in ours.items() if "/crates/modules/" in p["manifest_path"]}
# Protocol libraries that know no module are fair game for modules.
allowed_for_modules = {"mm-kernel", "mm-proto", "mm-wechatpay", "mm-bff", "mm-migrations"}
bad = []
for name, p in ours.items():
    deps = {d["name"] for d in p["dependencies"] if d["name"] in ours and d.get("kind") is None}
    if name in modules and deps - allowed_for_modules:
        bad.append(f"{name} depends on {sorted(deps - allowed_for_modules)}")
    upper = modules | {"mm-server"}
    if name in ("mm-kernel", "mm-proto", "mm-bff", "mm-migrations") and deps & (upper | ({"mm-bff"} if name in ("mm-kernel", "mm-proto") else set())):
        bad.append(f"{name} depends on {sorted(deps & upper)}")
if bad:
    print("architecture rule broken:\n  " + "\n  ".join(bad))
    sys.exit(1)
print(f"architecture ok: {len(modules)} module crate(s) depend only on the kernel, contracts, kits and protocol libraries")
'
