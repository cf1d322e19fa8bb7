"""The deployment files (deploy/Dockerfile, deploy/compose.yml, deploy/hopia.yml) and the
commands of docs/deployment.md, checked against the code: every ``hopia …`` command they run
exists with its options, every ``HOPIA_*`` variable is a setting, the image installs with the
pinned constraints and runs as a non-root user, the compose file has its services, and the
settings file loads. ``docker compose config`` runs too where Compose is installed."""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from pydantic import BaseModel
from typer.testing import CliRunner

from hopia.cli.main import app
from hopia.platform.config import Settings

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy"
DOCKERFILE = DEPLOY / "Dockerfile"
COMPOSE = DEPLOY / "compose.yml"
GUIDE = ROOT / "docs" / "deployment.md"

# Variables the code reads itself, besides the settings model (checked to be in the code).
NOT_SETTINGS = {"HOPIA_CONFIG": "src/hopia/platform/config.py", "HOPIA_DEBUG": "src/hopia/cli"}
SHELL_OPERATORS = set("|&;()<>")


# -- helpers ----------------------------------------------------------------------------------


def setting_variables(model: type[BaseModel] = Settings, prefix: str = "HOPIA_") -> set[str]:
    """Every ``HOPIA_*`` name the settings model reads: one per field, nested sections joined
    with ``__`` (``HOPIA_JOBS__BROKER_URL``)."""
    names = set()
    for name, field in model.model_fields.items():
        variable = f"{prefix}{name.upper()}"
        names.add(variable)
        kind = field.annotation
        if isinstance(kind, type) and issubclass(kind, BaseModel):
            names |= setting_variables(kind, f"{variable}__")
    return names


def hopia_commands(command_line: str, services: set[str] = frozenset()) -> list[list[str]]:
    """The ``hopia`` invocations of one shell command line, as argument lists (without the
    program). ``hopia`` counts at a command's position: first word of a command (after
    ``VAR=value`` assignments), or after a Compose service name (``exec web hopia …``); not
    as an argument (``psql -d hopia``)."""
    lexer = shlex.shlex(command_line, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    tokens = list(lexer)
    found, previous = [], None
    for i, token in enumerate(tokens):
        at_start = (
            previous is None
            or set(previous) <= SHELL_OPERATORS | {"$"}
            or re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*=.*", previous) is not None
            or previous in services
        )
        if at_start and (token == "hopia" or token.endswith("/bin/hopia")):
            args = []
            for arg in tokens[i + 1 :]:
                if set(arg) <= SHELL_OPERATORS | {"$"}:
                    break
                args.append(arg)
            found.append(args)
        previous = token
    return found


def shell_blocks(markdown: str) -> list[str]:
    """The command lines of a Markdown text: the lines of its ```bash / ```sh code blocks
    (continuations joined), the ``ExecStart=`` of its ```ini (systemd) blocks, and its inline
    code spans that start with ``hopia ``."""
    lines = []
    for block in re.findall(r"```(?:bash|sh|shell)\n(.*?)```", markdown, flags=re.S):
        for line in block.replace("\\\n", " ").splitlines():
            if line.strip():
                lines.append(line)
    for block in re.findall(r"```ini\n(.*?)```", markdown, flags=re.S):
        lines += re.findall(r"^ExecStart=(.+)$", block, flags=re.M)
    lines += re.findall(r"(?<!`)`(hopia [^`]+)`", markdown)
    return lines


def check_command(args: list[str]) -> None:
    """``hopia ARGS --help`` must succeed: the command exists, and so do its options (click
    rejects an unknown option before it prints the help)."""
    result = CliRunner().invoke(app, [*args, "--help"])
    assert result.exit_code == 0, f"hopia {' '.join(args)}: {result.output[-500:]}"
    assert "Utilisation" in result.output, result.output[-500:]


def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))


def command_of(service: dict) -> list[str]:
    command = service["command"]
    return command if isinstance(command, list) else shlex.split(command)


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of the Dockerfile, continuations joined, comments dropped."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text(encoding="utf-8"))
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            out.append((word.upper(), rest.strip()))
    return out


# -- the checks themselves can fail ----------------------------------------------------------


def test_the_command_finder_and_checker_can_fail() -> None:
    assert hopia_commands("docker compose exec web hopia jobs list", {"web"}) == [["jobs", "list"]]
    assert hopia_commands("pg_dump -U hopia -Fc hopia > x.dump") == []
    assert hopia_commands("X=1 /opt/hopia/bin/hopia init && hopia audit verify # note") == [
        ["init"],
        ["audit", "verify"],
    ]
    assert hopia_commands("pip install $(/opt/hopia/bin/hopia dictation requirements)") == [
        ["dictation", "requirements"]
    ]
    with pytest.raises(AssertionError):
        check_command(["jobs", "nonexistent"])
    with pytest.raises(AssertionError):
        check_command(["serve", "--threads", "4"])
    assert "HOPIA_JOBS__BROKER_URL" in setting_variables()
    assert "HOPIA_JOBS__BROKER" not in setting_variables()


# -- compose.yml ------------------------------------------------------------------------------


def test_compose_has_the_one_machine_services() -> None:
    services = compose()["services"]
    assert {"postgres", "redis", "web", "worker"} <= set(services)
    assert services["postgres"]["image"] == "postgres:15"
    assert services["redis"]["image"] == "redis:7"
    web, worker = services["web"], services["worker"]
    assert web["build"]["dockerfile"] == "deploy/Dockerfile"
    assert web["image"] == worker["image"]
    serve = command_of(web)
    assert serve[:2] == ["hopia", "serve"]
    assert int(serve[serve.index("--workers") + 1]) > 1  # several workers: PostgreSQL only
    assert command_of(worker)[:3] == ["hopia", "jobs", "worker"]
    # Web and workers share the home (uploads, exports, audit checkpoints) and the keys.
    for name in ("web", "worker"):
        service = services[name]
        assert "home:/var/lib/hopia" in service["volumes"]
        targets = {s["target"] for s in service["secrets"]}
        assert {f"/var/lib/hopia/{k}.key" for k in ("secret", "vault", "audit")} <= targets
        assert service["depends_on"]["init"]["condition"] == "service_completed_successfully"


def test_compose_environment_is_what_the_code_reads() -> None:
    services = compose()["services"]
    for name in ("web", "worker", "init"):
        env = services[name]["environment"]
        url = env["HOPIA_WAREHOUSE_URL"]
        # The format Settings documents; the host is the compose service, no password in it.
        assert re.fullmatch(r"postgresql\+psycopg2://hopia@postgres:5432/hopia", url), url
        assert env["HOPIA_JOBS__BROKER_URL"].startswith("redis://redis:6379/")
        assert env["PGPASSFILE"] in {s["target"] for s in services[name]["secrets"]}
    variables = setting_variables()
    for name, service in services.items():
        for variable in service.get("environment", {}):
            if variable.startswith("HOPIA_"):
                assert variable in variables or variable in NOT_SETTINGS, (name, variable)


def test_compose_secret_files_are_ignored_by_git() -> None:
    declared = compose()["secrets"]
    for secret in declared.values():
        assert secret["file"].startswith("./secrets/"), secret
    assert "/deploy/secrets/" in (ROOT / ".gitignore").read_text(encoding="utf-8").splitlines()


def test_compose_hopia_commands_exist() -> None:
    services = compose()["services"]
    commands = [command_of(s) for s in services.values() if command_of_is_hopia(s)]
    assert len(commands) == 3  # init, web, worker
    for command in commands:
        check_command(command[1:])


def command_of_is_hopia(service: dict) -> bool:
    return "command" in service and command_of(service)[0] == "hopia"


def test_compose_settings_file_loads(monkeypatch: pytest.MonkeyPatch) -> None:
    config = compose()["configs"]["hopia_config"]["file"]
    monkeypatch.setenv("HOPIA_CONFIG", str(DEPLOY / config))
    settings = Settings()
    assert settings.jobs.queue == "hopia"


@pytest.mark.skipif(
    shutil.which("docker") is None
    or subprocess.run(["docker", "compose", "version"], capture_output=True).returncode != 0,
    reason="docker compose is not installed here (docker without its compose plugin)",
)
def test_docker_compose_validates_the_file() -> None:
    result = subprocess.run(
        ["docker", "compose", "-f", str(COMPOSE), "config", "-q"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr


# -- Dockerfile -------------------------------------------------------------------------------


def test_dockerfile_installs_with_the_constraints_and_runs_as_non_root() -> None:
    instructions = dockerfile_instructions()
    froms = [args for word, args in instructions if word == "FROM"]
    assert froms and all(f.startswith("${PYTHON_IMAGE}") for f in froms)
    assert ("ARG", "PYTHON_IMAGE=python:3.11-slim") in instructions
    runs = " ".join(args for word, args in instructions if word == "RUN")
    assert "pip install -c constraints.txt '.[all]'" in runs
    assert any(w == "COPY" and "constraints.txt" in a for w, a in instructions)
    for package in ("tesseract-ocr", "tesseract-ocr-fra", "espeak-ng"):
        assert package in runs  # behind the WITH_OCR / WITH_ASR build arguments
    users = [args for word, args in instructions if word == "USER"]
    assert users and users[-1] not in ("root", "0"), users
    assert "useradd" in runs
    env = " ".join(args for word, args in instructions if word == "ENV")
    assert "HOPIA_HOME=/var/lib/hopia" in env
    volumes = [json.loads(args) for word, args in instructions if word == "VOLUME"]
    assert ["/var/lib/hopia"] in volumes
    for variable in re.findall(r"\bHOPIA_[A-Z_]+\b", env):
        assert variable in setting_variables() | NOT_SETTINGS.keys(), variable


def test_dockerfile_hopia_commands_exist() -> None:
    instructions = dockerfile_instructions()
    cmd = json.loads(next(args for word, args in reversed(instructions) if word == "CMD"))
    assert cmd[:2] == ["hopia", "serve"]
    commands = [cmd[1:]]
    for word, args in instructions:
        if word == "RUN":
            commands += hopia_commands(args)
    assert ["dictation", "requirements"] in commands
    for command in commands:
        check_command(command)


def test_dockerfile_healthcheck_asks_an_existing_public_page() -> None:
    from hopia.web.pages import PAGES

    check = next(args for word, args in dockerfile_instructions() if word == "HEALTHCHECK")
    path = re.search(r"http://127\.0\.0\.1:8000(/[^'\"]*)", check).group(1)
    routes = {(r.path, m) for router in PAGES for r in router.routes for m in r.methods}
    assert (path, "GET") in routes, path


# -- docs/deployment.md -----------------------------------------------------------------------


def test_guide_hopia_commands_exist() -> None:
    services = set(compose()["services"])
    commands = [
        args for line in shell_blocks(GUIDE.read_text()) for args in hopia_commands(line, services)
    ]
    assert len(commands) >= 25, commands
    for args in commands:
        check_command(args)


def test_guide_variables_are_settings() -> None:
    variables = setting_variables()
    for module, where in NOT_SETTINGS.items():
        files = [ROOT / where] if where.endswith(".py") else (ROOT / where).rglob("*.py")
        assert any(module in f.read_text(encoding="utf-8") for f in files), module
    text = GUIDE.read_text(encoding="utf-8") + (DEPLOY / "compose.yml").read_text()
    named = set(re.findall(r"\bHOPIA_[A-Z0-9_]*[A-Z0-9]\b", text))
    assert "HOPIA_WAREHOUSE_URL" in named
    unknown = named - variables - NOT_SETTINGS.keys() - {"HOPIA_"}
    assert not unknown, unknown
