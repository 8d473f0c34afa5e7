"""Checks the rendered Kubernetes manifests and compose.yaml's mesh profile (run by
scripts/check-k8s.sh, which renders the overlays and runs this with tools/.venv's Python).

    check.py --repo DIR --render all-in-one=FILE --render mesh=FILE

Every object is validated against the Kubernetes API's JSON schemas (kubernetes-validate, strict:
an unknown field is an error, and so is a kind or apiVersion it has no schema for), for the
oldest Kubernetes version we support and the newest it ships. Then the rules of the deployment
itself, which a schema cannot see: each server is a Deployment with probes, requests, a memory
limit and a locked-down pod, behind a headless Service, an autoscaler and a disruption budget of
its own; every module is hosted exactly once; every process finds each module it does not host
at a Service whose pods host it; the Ingress sends the JSON API and the dashboard to the BFF and
every gRPC service in proto/ to its module; and compose.yaml's mesh profile mirrors the mesh
overlay. Prints every problem and exits 1 if there is any.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from urllib.parse import urlsplit

import kubernetes_validate
import yaml
from kubernetes_validate.utils import latest_version

# The oldest Kubernetes the manifests are written for (native gRPC probes, matchLabelKeys).
OLDEST_KUBERNETES = "1.30.0"
SECRET = "minimodules-secrets"
# Settings that are secrets: read from the Secret, never from a ConfigMap or a literal.
SECRET_SETTINGS = {
    "MINIMODULES_DATABASE__URL": "database-url",
    "MINIMODULES_CACHE__REDIS_URL": "redis-url",
    "MINIMODULES_AUTH__JWT_SECRET": "jwt-secret",
    "MINIMODULES_SECRETS__KEY": "secrets-key",
}
OTHER_SECRETS = {"MINIMODULES_METRICS__TOKEN", "MINIMODULES_AUTH__PREVIOUS_JWT_SECRETS"}
UPSTREAM = "MINIMODULES_UPSTREAMS__"
GRPC, HTTP = 50051, 8080
# Requests that must reach the BFF's HTTP port, and the suffix of a grpc-web call's path.
BFF_REQUESTS = ("/api/v1/app/config", "/admin/", "/admin/config.json")
METHOD = "/Method"

problems: list[str] = []


def problem(where: str, what: str) -> None:
    problems.append(f"{where}: {what}")


def name_of(obj: dict) -> str:
    return f"{obj['kind']}/{obj['metadata']['name']}"


def selects(selector: dict, labels: dict) -> bool:
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


# --- What the repository says ------------------------------------------------------------------


def proto_services(repo: Path) -> dict[str, str]:
    """gRPC service path prefix (/package.Service) -> module id, from proto/minimodules/<m>/."""
    services = {}
    for proto in sorted((repo / "proto" / "minimodules").glob("*/v1/*.proto")):
        module = proto.parts[-3]
        if module == "common":
            continue
        text = proto.read_text()
        package = re.search(r"^package\s+([\w.]+)\s*;", text, re.M)
        for service in re.findall(r"^service\s+(\w+)", text, re.M):
            services[f"/{package.group(1)}.{service}"] = module
    return services


def secret_keys(repo: Path) -> set[str]:
    """The keys of the Secret, as the example file documents them."""
    lines = (repo / "deploy" / "k8s" / "secrets.example.env").read_text().splitlines()
    return {line.split("=", 1)[0] for line in lines if line and not line.startswith("#")}


# --- One server process ------------------------------------------------------------------------


class Server:
    """A Deployment running `minimodules serve`: what it hosts and the settings it runs with."""

    def __init__(self, deployment: dict, where: str, modules: list[str], config_maps: dict):
        self.name = deployment["metadata"]["name"]
        self.where = where
        self.pod = deployment["spec"]["template"]
        self.labels = self.pod["metadata"]["labels"]
        self.container = self.pod["spec"]["containers"][0]
        self.service: str | None = None
        self.min_replicas = 0
        self.hosted: set[str] = set()
        args = self.container.get("args", [])
        self.bff = "--no-bff" not in args
        if args[:1] != ["serve"]:
            problem(where, f"args {args} do not start with serve")
        if "--modules" in args[:-1]:
            wanted = args[args.index("--modules") + 1]
            if wanted == "all":
                self.hosted = set(modules)
            elif wanted != "none":
                self.hosted = set(wanted.split(","))
            for m in self.hosted - set(modules):
                problem(where, f"--modules names {m!r}, not a module (proto/minimodules/)")
        else:
            problem(where, "no --modules: say all, none or a list, never rely on a default")
        if not self.hosted and not self.bff:
            problem(where, "hosts neither a module nor the BFF")
        self.env = self._env(config_maps)

    def _env(self, config_maps: dict) -> dict[str, str]:
        """The plain settings: the ConfigMaps', then the container's own env (which wins)."""
        env: dict[str, str] = {}
        for source in self.container.get("envFrom", []):
            ref = source.get("configMapRef", {}).get("name")
            if ref in config_maps:
                env.update(config_maps[ref].get("data", {}))
            else:
                problem(self.where, f"envFrom names ConfigMap {ref!r}, which is not rendered")
        env.update({v["name"]: v["value"] for v in self.container.get("env", []) if "value" in v})
        return env


# --- Checks of any pod and of one server -------------------------------------------------------


def check_schemas(overlay: str, objects: list[dict]) -> None:
    for version in sorted({OLDEST_KUBERNETES, latest_version()}):
        for obj in objects:
            try:
                kubernetes_validate.validate(obj, version, strict=True)
            except kubernetes_validate.ValidationError as e:
                path = ".".join(str(p) for p in e.path)
                problem(f"{overlay} {name_of(obj)}", f"Kubernetes {version}: {path}: {e.message}")
            except kubernetes_validate.SchemaNotFoundError as e:
                problem(f"{overlay} {name_of(obj)}", e.message)


def check_pod(where: str, pod: dict, images: set[str], keys: set[str]) -> None:
    """What every pod keeps, server or Job: no root, no writes but /tmp, sized, secrets."""
    spec = pod["spec"]
    security = spec.get("securityContext", {})
    if not security.get("runAsNonRoot") or security.get("runAsUser", 0) == 0:
        problem(where, "pod may run as root (runAsNonRoot and a non-zero runAsUser)")
    if spec.get("automountServiceAccountToken") is not False:
        problem(where, "mounts a Kubernetes API token it never uses")
    volumes = {v["name"] for v in spec.get("volumes", [])}
    for c in spec["containers"]:
        cwhere = f"{where} container {c['name']}"
        images.add(c.get("image", ""))
        if c.get("command") != ["minimodules"]:
            problem(cwhere, f"command {c.get('command')}: the image has no entrypoint")
        cs = c.get("securityContext", {})
        if cs.get("allowPrivilegeEscalation") is not False:
            problem(cwhere, "allowPrivilegeEscalation is not false")
        if not cs.get("readOnlyRootFilesystem"):
            problem(cwhere, "root filesystem is writable")
        if "ALL" not in cs.get("capabilities", {}).get("drop", []):
            problem(cwhere, "capabilities are not all dropped")
        mounts = {m["mountPath"]: m["name"] for m in c.get("volumeMounts", [])}
        if mounts.get("/tmp") not in volumes:
            problem(cwhere, "no writable /tmp volume")
        resources = c.get("resources", {})
        for r in ("cpu", "memory"):
            if r not in resources.get("requests", {}):
                problem(cwhere, f"no {r} request")
        if "memory" not in resources.get("limits", {}):
            problem(cwhere, "no memory limit")
        from_secret = {}
        for var in c.get("env", []):
            ref = var.get("valueFrom", {}).get("secretKeyRef")
            if ref and (ref.get("name") != SECRET or ref.get("key") not in keys):
                problem(cwhere, f"{var['name']} reads {ref}: not a key of {SECRET} "
                        "(deploy/k8s/secrets.example.env)")
            elif ref:
                from_secret[var["name"]] = ref["key"]
        if from_secret != SECRET_SETTINGS:
            problem(cwhere, f"secrets read {from_secret}, not {SECRET_SETTINGS}")


def check_probe(where: str, kind: str, probe: dict | None, ports: dict) -> None:
    if not probe:
        problem(where, f"no {kind} probe")
        return
    handlers = [h for h in ("httpGet", "grpc", "tcpSocket", "exec") if h in probe]
    if len(handlers) != 1:
        problem(where, f"{kind} probe has {handlers or 'no'} handlers: exactly one is allowed")
        return
    handler = probe[handlers[0]]
    port = handler.get("port")
    if port not in ports and port not in ports.values():
        problem(where, f"{kind} probe uses port {port!r}, which the container does not expose")
    wanted = "/readyz" if kind == "readiness" else "/healthz"
    if handlers[0] == "httpGet" and handler.get("path") != wanted:
        problem(where, f"{kind} probe asks {handler.get('path')}, not {wanted}")
    elif handlers[0] == "grpc" and (kind != "readiness" or port != GRPC):
        problem(where, f"{kind} probe on gRPC health: only readiness may, on {GRPC}")
    elif handlers[0] not in ("httpGet", "grpc"):
        problem(where, f"{kind} probe by {handlers[0]}: use {wanted} or gRPC health")


def check_server(x: Server, deployment: dict) -> None:
    """Probes, ports, the autoscaler's ownership of replicas, and shutdown timing."""
    ports = {p["name"]: p["containerPort"] for p in x.container.get("ports", [])}
    if ports != {"grpc": GRPC, "http": HTTP}:
        problem(x.where, f"ports {ports}: grpc {GRPC} and http {HTTP}, every process serves both")
    for kind in ("startup", "readiness", "liveness"):
        check_probe(x.where, kind, x.container.get(f"{kind}Probe"), ports)
    if "replicas" in deployment["spec"]:
        problem(x.where, "sets replicas: the HorizontalPodAutoscaler owns the count")
    if not selects(deployment["spec"]["selector"]["matchLabels"], x.labels):
        problem(x.where, "selector does not match its own pods")
    if x.env.get("MINIMODULES_DATABASE__MIGRATE_ON_START") != "false":
        problem(x.where, "migrates on start: the migrate Job does it")
    grace = int(x.env.get("MINIMODULES_SERVER__SHUTDOWN_GRACE_SECS", "10"))
    unready_ms = int(x.env.get("MINIMODULES_SERVER__SHUTDOWN_UNREADY_MS", "1000"))
    if x.pod["spec"].get("terminationGracePeriodSeconds", 30) <= grace:
        problem(x.where, f"terminationGracePeriodSeconds is not above the grace ({grace} s)")
    readiness = x.container.get("readinessProbe", {})
    noticed_ms = 1000 * readiness.get("periodSeconds", 10) * readiness.get("failureThreshold", 3)
    if not noticed_ms < unready_ms < 1000 * grace:
        problem(x.where, f"SHUTDOWN_UNREADY_MS {unready_ms} must exceed what readiness needs to "
                f"notice ({noticed_ms} ms) and fit in the grace ({grace} s)")


# --- One rendered overlay ----------------------------------------------------------------------


class Overlay:
    def __init__(self, name: str, objects: list[dict], services: dict[str, str], keys: set[str]):
        self.name = name
        self.services = services
        self.modules = sorted(set(services.values()))
        self.keys = keys
        self.by_kind: dict[str, list[dict]] = {}
        for obj in objects:
            self.by_kind.setdefault(obj["kind"], []).append(obj)
        self.config_maps = {c["metadata"]["name"]: c for c in self.kind("ConfigMap")}
        self.k8s_services = {s["metadata"]["name"]: s for s in self.kind("Service")}
        self.servers = [Server(d, self.at(d), self.modules, self.config_maps)
                        for d in self.kind("Deployment")]
        self.by_service: dict[str, Server] = {}

    def kind(self, kind: str) -> list[dict]:
        return self.by_kind.get(kind, [])

    def at(self, obj: dict) -> str:
        return f"{self.name} {name_of(obj)}"

    def check(self) -> None:
        for obj in (o for objs in self.by_kind.values() for o in objs):
            labels = obj["metadata"].get("labels", {})
            for label in ("app.kubernetes.io/name", "app.kubernetes.io/part-of"):
                if labels.get(label) != "minimodules":
                    problem(self.at(obj), f"label {label} is not minimodules")
        if self.kind("Secret"):
            problem(self.name, "renders a Secret: secrets are made in the cluster, never committed")
        for c in self.config_maps.values():
            for key in set(c.get("data", {})) & (set(SECRET_SETTINGS) | OTHER_SECRETS):
                problem(self.at(c), f"holds {key}: a secret belongs in {SECRET}")
        images: set[str] = set()
        for d, x in zip(self.kind("Deployment"), self.servers):
            check_pod(x.where, x.pod, images, self.keys)
            check_server(x, d)
            self.check_companions(x)
        for j in self.kind("Job"):
            check_pod(self.at(j), j["spec"]["template"], images, self.keys)
        if [j["spec"]["template"]["spec"]["containers"][0].get("args")
                for j in self.kind("Job")] != [["migrate"]]:
            problem(self.name, "not exactly one Job, running `minimodules migrate`")
        if len(images) != 1 or any(":" not in i.rsplit("/", 1)[-1] or i.endswith(":latest")
                                   for i in images):
            problem(self.name, f"images {sorted(images)}: one image, with a version tag")
        for s in self.k8s_services.values():
            owners = [x for x in self.servers if selects(s["spec"].get("selector", {}), x.labels)]
            if len(owners) != 1:
                problem(self.at(s), f"selects the pods of {len(owners)} Deployments, not one")
        self.check_hosting()
        self.check_ingress()

    def check_companions(self, x: Server) -> None:
        """A headless Service, an autoscaler and a disruption budget of its own."""
        mine = [s for s in self.k8s_services.values()
                if selects(s["spec"].get("selector", {}), x.labels)]
        if len(mine) != 1:
            problem(x.where, f"{len(mine)} Services select its pods, not one")
        for s in mine:
            if s["spec"].get("clusterIP") != "None":
                problem(self.at(s), "not headless: callers balance over the pods it resolves to")
            ports = {p["name"]: p["port"] for p in s["spec"]["ports"]}
            if ports != {"grpc": GRPC, "http": HTTP}:
                problem(self.at(s), f"ports {ports}, not grpc {GRPC} and http {HTTP}")
        if len(mine) == 1:
            x.service = mine[0]["metadata"]["name"]
            self.by_service[x.service] = x
        target = {"apiVersion": "apps/v1", "kind": "Deployment", "name": x.name}
        hpas = [h for h in self.kind("HorizontalPodAutoscaler")
                if h["spec"]["scaleTargetRef"] == target]
        if len(hpas) != 1:
            problem(x.where, f"{len(hpas)} HorizontalPodAutoscalers scale it, not one")
        for h in hpas:
            metrics = h["spec"].get("metrics", [])
            if h["apiVersion"] != "autoscaling/v2" or not any(
                    m.get("resource", {}).get("name") == "cpu" for m in metrics):
                problem(self.at(h), "not an autoscaling/v2 autoscaler on CPU")
            x.min_replicas = h["spec"].get("minReplicas", 1)
        pdbs = [p for p in self.kind("PodDisruptionBudget")
                if selects(p["spec"]["selector"]["matchLabels"], x.labels)]
        if len(pdbs) != 1:
            problem(x.where, f"{len(pdbs)} PodDisruptionBudgets cover it, not one")

    def check_hosting(self) -> None:
        """Each module hosted once, one BFF, and every process able to reach every module."""
        for m in self.modules:
            hosts = [x.name for x in self.servers if m in x.hosted]
            if len(hosts) != 1:
                problem(self.name, f"module {m} is hosted by {hosts or 'nothing'}, not once")
        if len([x for x in self.servers if x.bff]) != 1:
            problem(self.name, "not exactly one Deployment serves the BFF")
        for x in self.servers:
            for var in (v for v in x.env if v.startswith(UPSTREAM)):
                if var[len(UPSTREAM):].lower() not in self.modules + ["default"]:
                    problem(x.where, f"{var} names no module")
            for m in sorted(set(self.modules) - x.hosted):
                address = x.env.get(UPSTREAM + m.upper()) or x.env.get(UPSTREAM + "DEFAULT")
                if not address:
                    problem(x.where, f"no {UPSTREAM}{m.upper()} (or DEFAULT): {m} unreachable")
                    continue
                url = urlsplit(address)
                target = self.by_service.get(url.hostname)
                if url.scheme != "http" or url.port != GRPC or target is None:
                    problem(x.where, f"{m} at {address}: not http://<a rendered Service>:{GRPC}")
                elif m not in target.hosted:
                    problem(x.where, f"{m} at {address}, whose pods do not host {m}")

    def check_ingress(self) -> None:
        """One Ingress on the public URL's host, sending each path to whoever serves it."""
        ingresses = self.kind("Ingress")
        if len(ingresses) != 1:
            problem(self.name, f"{len(ingresses)} Ingresses, not one")
        public = {x.env.get("MINIMODULES_SERVER__PUBLIC_URL") for x in self.servers}
        grpc_web = {x.env.get("MINIMODULES_ADMIN__GRPC_WEB_URL") for x in self.servers if x.bff}
        if len(public) != 1 or grpc_web != public:
            problem(self.name, f"the dashboard calls grpc-web at {grpc_web}, not at {public}")
        host = urlsplit(min(public, key=str) or "").hostname
        for ing in ingresses:
            rules = ing["spec"]["rules"]
            if [r.get("host") for r in rules] != [host]:
                problem(self.at(ing), f"hosts {[r.get('host') for r in rules]}, not {host}")
            if [h for t in ing["spec"].get("tls", []) for h in t["hosts"]] != [host]:
                problem(self.at(ing), "TLS does not cover the host")
            paths = [(p["path"], p["backend"]["service"])
                     for r in rules for p in r["http"]["paths"]]
            for path, backend in paths:
                if backend["name"] not in self.k8s_services:
                    problem(self.at(ing), f"{path} goes to Service {backend['name']}, not rendered")

            def route(request: str) -> tuple[Server | None, int | None]:
                # pathType Prefix matches whole path segments; the longest match wins.
                found = [(p, b) for p, b in paths
                         if request == p or request.startswith(p.rstrip("/") + "/")]
                if not found:
                    return None, None
                _, backend = max(found, key=lambda f: len(f[0]))
                port = {"grpc": GRPC, "http": HTTP}.get(backend["port"].get("name"))
                return self.by_service.get(backend["name"]), port

            check_routes(self.at(ing), route, self.services)


def check_routes(where: str, route, services: dict[str, str]) -> None:
    """The JSON API and the dashboard reach the BFF, each grpc-web service its module."""
    for request in BFF_REQUESTS:
        target, port = route(request)
        if target is None or not target.bff or port != HTTP:
            problem(where, f"{request} does not reach the BFF on {HTTP}")
    for prefix, m in services.items():
        target, port = route(prefix + METHOD)
        if target is None or m not in target.hosted or port != GRPC:
            problem(where, f"grpc-web {prefix}/* does not reach {m} on {GRPC}")


# --- compose.yaml's mesh profile ---------------------------------------------------------------


def check_compose(repo: Path, mesh: Overlay) -> None:
    """compose.yaml's mesh profile runs the mesh overlay's processes, alike."""
    compose = yaml.safe_load((repo / "compose.yaml").read_text())["services"]
    in_mesh = {n: s for n, s in compose.items() if "mesh" in s.get("profiles", [])}
    for x in mesh.servers:
        where = f"compose.yaml {x.name}"
        s = in_mesh.get(x.name)
        if s is None:
            problem(where, "missing from the mesh profile")
            continue
        if s.get("command") != x.container["command"] + x.container["args"]:
            problem(where, f"command {s.get('command')} differs from the mesh overlay's")
        env = s.get("environment", {})
        if ({k: v for k, v in env.items() if k.startswith(UPSTREAM)}
                != {k: v for k, v in x.env.items() if k.startswith(UPSTREAM)}):
            problem(where, "upstream addresses differ from the mesh overlay's")
        if env.get("MINIMODULES_DATABASE__MIGRATE_ON_START") != "false":
            problem(where, "migrates on start: minimodules-migrate does it")
        if not x.bff and "minimodules-migrate" not in s.get("depends_on", {}):
            problem(where, "does not wait for minimodules-migrate")
        if not x.bff and s.get("deploy", {}).get("replicas", 1) < x.min_replicas:
            problem(where, f"fewer replicas than the mesh overlay's {x.min_replicas}")
    if in_mesh.get("minimodules-migrate", {}).get("command") != ["minimodules", "migrate"]:
        problem("compose.yaml", "no minimodules-migrate service running `minimodules migrate`")

    # The edge: nginx prefix locations (the longest wins) to the service hosting each path.
    conf = repo / "deploy" / "compose" / "ingress.conf"
    locations = re.findall(r"location\s+(\S+)\s*\{[^}]*?set \$backend ([\w-]+):(\d+);",
                           conf.read_text())
    servers = {x.name: x for x in mesh.servers}

    def route(request: str) -> tuple[Server | None, int | None]:
        found = [loc for loc in locations if request.startswith(loc[0])]
        if not found:
            return None, None
        _, name, port = max(found, key=lambda f: len(f[0]))
        return servers.get(name), int(port)

    check_routes("deploy/compose/ingress.conf", route, mesh.services)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--render", action="append", required=True, metavar="OVERLAY=FILE")
    parser.add_argument("--repo", type=Path, default=Path("."))
    args = parser.parse_args()
    services = proto_services(args.repo)
    keys = secret_keys(args.repo)
    overlays = {}
    for render in args.render:
        name, file = render.split("=", 1)
        objects = [d for d in yaml.safe_load_all(Path(file).read_text()) if d]
        check_schemas(name, objects)
        overlays[name] = Overlay(name, objects, services, keys)
        overlays[name].check()
        print(f"{name}: {len(objects)} objects checked", file=sys.stderr)
    mesh = overlays.get("mesh")
    if mesh is None:
        problem("check.py", "no mesh render given")
    else:
        if any(x.min_replicas < 2 for x in mesh.servers if "ordering" in x.hosted):
            problem("mesh", "ordering runs fewer than two pods")
        check_compose(args.repo, mesh)
    for p in problems:
        print(f"FAIL {p}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
