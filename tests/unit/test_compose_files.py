"""compose/: valid against the Compose Specification and consistent, without Docker.

The schema is the compose-spec project's, fetched once into .cache/ by
scripts/fetch_compose_schema.py (pinned package and sha256). The variables are
those of compose/.env.example, with the passwords (left empty there) filled in.
"""

import json
import shutil
import subprocess
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from apps.api.config import load_api_config
from apps.etl.config import load_etl_config
from apps.storage.config import load_storage_config
from tests.support.compose import (
    InterpolationError,
    Interpolator,
    build_files,
    check_compose_dir,
    dependency_errors,
    dockerfile_errors,
    healthcheck_errors,
    load_yaml,
    map_strings,
    read_env_file,
    schema_errors,
    secret_errors,
    settings_errors,
    volume_errors,
    with_example_passwords,
)

REPO = Path(__file__).resolve().parents[2]
COMPOSE_DIR = REPO / "compose"
SETTINGS_DIR = REPO / "src" / "apps"
FETCH_SCHEMA = REPO / "scripts" / "fetch_compose_schema.py"
BEING_ADDED = (
    "MONITORING_GRPC_PORT",
    "MONITORING_SLA_ADDRESS",
    "MONITORING_SLA_TOKEN",
    "MONITORING_GRPC_TLS_CERT",
    "MONITORING_GRPC_TLS_KEY",
)
PROJECT_COMMANDS = {
    "etl": ["etl"],
    "storage": ["storage"],
    "api": ["api"],
    "sla-manager": ["sla-manager"],
    "migrate": ["db", "upgrade"],
}

Compose = dict[str, Any]


@pytest.fixture(scope="session")
def schema() -> dict[str, Any]:
    result = subprocess.run(
        [sys.executable, str(FETCH_SCHEMA)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if result.returncode != 0:
        pytest.fail(f"no Compose schema ({FETCH_SCHEMA.name}): {result.stderr}")
    loaded: dict[str, Any] = json.loads(Path(result.stdout.strip()).read_text())
    assert "draft-07" in loaded["$schema"]
    jsonschema.Draft7Validator.check_schema(loaded)
    return loaded


@pytest.fixture(scope="session")
def example() -> dict[str, str]:
    return read_env_file(COMPOSE_DIR / ".env.example")


@pytest.fixture
def compose(example: dict[str, str]) -> Compose:
    """compose.yaml interpolated as `docker compose` would (fresh per test)."""
    env = with_example_passwords(example)
    loaded: Compose = map_strings(
        load_yaml(COMPOSE_DIR / "compose.yaml"), Interpolator(env)
    )
    return loaded


def _environment(service: dict[str, Any]) -> dict[str, str]:
    return {k: "" if v is None else str(v) for k, v in service["environment"].items()}


# ------------------------------------------------------------- the real files


def test_the_compose_files_pass_every_check(schema: dict[str, Any]) -> None:
    assert check_compose_dir(COMPOSE_DIR, schema, SETTINGS_DIR, BEING_ADDED) == []


def test_the_project_services_are_one_image_built_from_compose_dockerfile(
    compose: Compose,
) -> None:
    services = compose["services"]
    built = {name for name, s in services.items() if "build" in s}
    assert built == set(PROJECT_COMMANDS)
    assert {build_files(COMPOSE_DIR, services[n]) for n in built} == {
        (REPO, COMPOSE_DIR / "Dockerfile")
    }
    assert len({services[n]["image"] for n in built}) == 1
    assert {n: services[n]["command"] for n in built} == PROJECT_COMMANDS


def test_the_dockerfile_installs_the_project_as_a_non_root_user() -> None:
    text = (COMPOSE_DIR / "Dockerfile").read_text()
    assert dockerfile_errors(COMPOSE_DIR / "Dockerfile", REPO) == []
    assert "FROM python:3.11-slim" in text
    assert "pip install ." in text


def test_infrastructure_images_are_pinned(compose: Compose) -> None:
    images = {n: s["image"] for n, s in compose["services"].items() if "build" not in s}
    assert images["kafka"].startswith("apache/kafka:4.1.")
    assert images["topic-init"] == images["kafka"]
    assert images["mysql"] == "mysql:8.4"
    assert images["prometheus"].startswith("prom/prometheus:v")
    assert images["node-exporter"].startswith("prom/node-exporter:v")


def test_ports_and_the_sla_address(compose: Compose) -> None:
    services = compose["services"]
    assert services["api"]["ports"] == ["127.0.0.1:8080:8080"]
    assert services["sla-manager"]["ports"] == ["127.0.0.1:50051:50051"]
    assert _environment(services["sla-manager"])["MONITORING_GRPC_PORT"] == "50051"
    for name in ("etl", "api"):  # the API's console reads SLAs there (ADR 0056)
        assert _environment(services[name])["MONITORING_SLA_ADDRESS"] == (
            "sla-manager:50051"
        )


def test_one_shot_steps_run_before_the_services_that_need_them(
    compose: Compose,
) -> None:
    services = compose["services"]
    script = services["topic-init"]["command"][0]
    assert script.count("kafka-topics.sh") == 2 and "--create" in script
    topics = _environment(services["topic-init"])
    storage = _environment(services["storage"])
    assert topics["TOPIC"] == storage["MONITORING_KAFKA_TOPIC"]
    assert topics["DEAD_LETTER_TOPIC"] == storage["MONITORING_DEAD_LETTER_TOPIC"]
    assert topics["TOPIC"] == _environment(services["etl"])["MONITORING_KAFKA_TOPIC"]
    done = "service_completed_successfully"
    for name in ("storage", "api", "sla-manager"):
        assert services[name]["depends_on"]["migrate"]["condition"] == done
    for name in ("etl", "storage"):
        assert services[name]["depends_on"]["topic-init"]["condition"] == done
    assert services["etl"]["depends_on"]["sla-manager"]["condition"] == (
        "service_healthy"
    )


def test_each_service_environment_passes_its_own_configuration(
    compose: Compose,
) -> None:
    services = compose["services"]
    assert load_etl_config(_environment(services["etl"])).kafka_bootstrap == (
        "kafka:9092"
    )
    storage = load_storage_config(_environment(services["storage"]))
    assert storage.database_url.startswith("mysql+pymysql://") and not storage.migrate
    assert load_api_config(_environment(services["api"])).port == 8080
    sla = pytest.importorskip("apps.sla.config")
    assert sla.load_sla_manager_config(_environment(services["sla-manager"])).port == (
        50051
    )


def test_every_listening_service_binds_every_interface_of_its_container(
    compose: Compose,
) -> None:
    """The code's default (127.0.0.1) would leave a container unreachable."""
    from apps.sla.config import load_sla_manager_config

    services = compose["services"]
    loaders = {
        "etl": load_etl_config,
        "storage": load_storage_config,
        "api": load_api_config,
        "sla-manager": load_sla_manager_config,
    }
    hosts = {n: load(_environment(services[n])).host for n, load in loaders.items()}
    assert hosts == dict.fromkeys(loaders, "0.0.0.0")
    assert load_api_config({}).host == "127.0.0.1"


def test_prometheus_scrapes_node_exporter_and_the_services(compose: Compose) -> None:
    config = yaml.safe_load((COMPOSE_DIR / "prometheus.yml").read_text())
    targets = [
        t
        for job in config["scrape_configs"]
        for static in job["static_configs"]
        for t in static["targets"]
    ]
    services = compose["services"]
    scraped = {}
    for target in targets:
        host, port = target.rsplit(":", 1)
        assert host == "localhost" or host in services, target
        scraped[host] = port
    assert {"node-exporter", "etl", "storage", "api"} <= set(scraped)
    for name in ("etl", "storage", "api"):
        assert scraped[name] in _environment(services[name]).values(), name


def test_the_example_leaves_the_passwords_to_the_user(example: dict[str, str]) -> None:
    passwords = [k for k in example if "PASSWORD" in k]
    assert passwords and all(example[k] == "" for k in passwords)
    with pytest.raises(InterpolationError, match="PASSWORD"):
        map_strings(load_yaml(COMPOSE_DIR / "compose.yaml"), Interpolator(example))


def test_local_state_stays_out_of_the_image_and_of_git() -> None:
    ignored = (REPO / ".dockerignore").read_text().split()
    assert {".git", ".venv", ".services", ".cache", "compose/.env"} <= set(ignored)
    gitignore = (REPO / ".gitignore").read_text().split()
    assert {".cache/", "compose/.env"} <= set(gitignore)


# --------------------------------------------------------------- interpolation


@pytest.mark.parametrize(
    ("text", "env", "expected"),
    [
        ("plain", {}, "plain"),
        ("$$A and $${A}", {"A": "x"}, "$A and ${A}"),
        ("${A}/$A-b", {"A": "x"}, "x/x-b"),
        ("${A:-d}", {"A": ""}, "d"),
        ("${A:-d}", {"A": "x"}, "x"),
        ("${A-d}", {"A": ""}, ""),
        ("${A-d}", {}, "d"),
        ("${A:-${B:-c}d}", {}, "cd"),
        ("${A:+alt}", {"A": "x"}, "alt"),
        ("${A:+alt}", {"A": ""}, ""),
        ("${A+alt}", {"A": ""}, "alt"),
        ("${A?needed}", {"A": ""}, ""),
        ("${A:?needed}", {"A": "x"}, "x"),
        ("a:${A:-1}:${B:-2}", {"B": "3"}, "a:1:3"),
    ],
)
def test_interpolation_follows_compose(
    text: str, env: dict[str, str], expected: str
) -> None:
    assert Interpolator(env)(text) == expected


@pytest.mark.parametrize(
    ("text", "env"),
    [
        ("${A:?set A}", {"A": ""}),
        ("${A:?set A}", {}),
        ("${A?set A}", {}),
        ("${A:-${B:?set B}}", {}),
        ("${A", {}),
        ("${1A}", {}),
        ("cost: $5", {}),
    ],
)
def test_interpolation_refuses_what_compose_refuses(
    text: str, env: dict[str, str]
) -> None:
    with pytest.raises(InterpolationError):
        Interpolator(env)(text)


def test_unset_variables_are_reported() -> None:
    interpolate = Interpolator({})
    assert interpolate("${A}-$B-${C:-c}") == "--c"
    assert interpolate.unset == {"A", "B"}


def test_the_env_file_reader_handles_quotes_and_comments(tmp_path: Path) -> None:
    path = tmp_path / ".env"
    path.write_text(
        '# comment\n\nA=1 # trailing\nexport B=\'{x="y"} # kept\'\nC="a \\"b\\""\nD=\n'
    )
    assert read_env_file(path) == {
        "A": "1",
        "B": '{x="y"} # kept',
        "C": 'a "b"',
        "D": "",
    }
    path.write_text("no equals sign\n")
    with pytest.raises(ValueError, match="KEY=value"):
        read_env_file(path)


# ------------------------------------------------- the checks catch mistakes


def _service(compose: Compose, name: str) -> dict[str, Any]:
    service: dict[str, Any] = compose["services"][name]
    return service


def test_the_schema_rejects_an_unknown_key(
    compose: Compose, schema: dict[str, Any]
) -> None:
    assert schema_errors(compose, schema) == []
    _service(compose, "api")["restart_policy"] = "always"
    errors = schema_errors(compose, schema)
    assert errors and "restart_policy" in errors[0] and "services/api" in errors[0]


def test_the_schema_rejects_a_bad_value(
    compose: Compose, schema: dict[str, Any]
) -> None:
    _service(compose, "etl")["depends_on"]["kafka"]["condition"] = "service_ready"
    assert any("services/etl/depends_on" in e for e in schema_errors(compose, schema))


def test_dangling_and_ill_fitting_dependencies_are_caught(compose: Compose) -> None:
    services = compose["services"]
    assert dependency_errors(services) == []
    services["etl"]["depends_on"]["zookeeper"] = {"condition": "service_started"}
    del services["kafka"]["healthcheck"]
    services["migrate"]["restart"] = "on-failure"
    assert dependency_errors(services) == [
        "services/topic-init/depends_on/kafka: service_healthy, but it has no "
        "healthcheck",
        "services/sla-manager/depends_on/migrate: waits for completion of a "
        "restarting service",
        "services/etl/depends_on/kafka: service_healthy, but it has no healthcheck",
        "services/etl/depends_on/zookeeper: no service 'zookeeper'",
        "services/storage/depends_on/kafka: service_healthy, but it has no healthcheck",
        "services/storage/depends_on/migrate: waits for completion of a "
        "restarting service",
        "services/api/depends_on/migrate: waits for completion of a restarting service",
    ]


def test_a_dependency_cycle_is_caught(compose: Compose) -> None:
    _service(compose, "mysql")["depends_on"] = ["api"]
    assert dependency_errors(compose["services"]) == [
        "depends_on: cycle among api, migrate, mysql"
    ]


def test_a_long_running_service_needs_a_healthcheck(compose: Compose) -> None:
    services = compose["services"]
    assert healthcheck_errors(services) == []
    services["storage"]["healthcheck"] = {"disable": True}
    assert healthcheck_errors(services) == [
        "services/storage: restarts (unless-stopped) but has no healthcheck"
    ]


def test_volumes_must_be_declared_and_used(compose: Compose) -> None:
    assert volume_errors(COMPOSE_DIR, compose) == []
    _service(compose, "mysql")["volumes"] = ["mysql-store:/var/lib/mysql"]
    _service(compose, "prometheus")["volumes"][0] = "./missing.yml:/etc/p.yml:ro"
    assert volume_errors(COMPOSE_DIR, compose) == [
        "services/mysql/volumes: 'mysql-store' undeclared",
        "services/prometheus/volumes: no ./missing.yml to bind",
        "volumes/mysql-data: declared but unused",
    ]


def test_hard_coded_secrets_are_caught() -> None:
    raw = load_yaml(COMPOSE_DIR / "compose.yaml")
    assert secret_errors(raw["services"]) == []
    raw["services"]["mysql"]["environment"]["MYSQL_PASSWORD"] = "hunter2"
    raw["services"]["api"]["environment"]["MONITORING_API_TOKEN"] = "${T:-abc}"
    raw["services"]["api"]["environment"]["MONITORING_DATABASE_URL"] = (
        "mysql+pymysql://u:hunter2@mysql:3306/db"
    )
    assert secret_errors(raw["services"]) == [
        "services/mysql/environment/MYSQL_PASSWORD: a secret must be ${VAR?...}, "
        "got 'hunter2'",
        "services/api/environment/MONITORING_DATABASE_URL: literal password in a URL",
        "services/api/environment/MONITORING_API_TOKEN: a secret must be "
        "${VAR?...}, got '${T:-abc}'",
    ]


def test_unknown_monitoring_variables_are_caught() -> None:
    names = {"MONITORING_KAFKA_TOPIC", "MONITORING_GRPC_PORT", "MONITORING_TYPO"}
    assert settings_errors(names, SETTINGS_DIR, BEING_ADDED) == [
        f"MONITORING_TYPO: no such setting in {SETTINGS_DIR}"
    ]


# ----------------------------------------- broken copies of the real files


@pytest.fixture
def copy_of_compose(tmp_path: Path) -> Path:
    """compose/ copied into a scratch build context (with the COPY sources)."""
    target = tmp_path / "compose"
    shutil.copytree(COMPOSE_DIR, target, ignore=shutil.ignore_patterns(".env"))
    (tmp_path / "pyproject.toml").write_text("")
    (tmp_path / "src").mkdir()
    return target


def _replace(old: str, new: str) -> Callable[[str], str]:
    def change(text: str) -> str:
        assert old in text, f"the files changed: {old!r} is gone"
        return text.replace(old, new, 1)

    return change


BREAKAGES: Mapping[str, tuple[str, Callable[[str], str], str]] = {
    "unknown key": (
        "compose.yaml",
        _replace('    command: ["api"]\n', '    command: ["api"]\n    cmd: api\n'),
        "schema: services/api: 'cmd' does not match any of the regexes",
    ),
    "dangling depends_on": (
        "compose.yaml",
        _replace("      topic-init:\n", "      topic-setup:\n"),
        "services/etl/depends_on/topic-setup: no service 'topic-setup'",
    ),
    "variable missing from the example": (
        ".env.example",
        _replace("PROMETHEUS_RETENTION=15d\n", ""),
        ".env.example: no PROMETHEUS_RETENTION (compose.yaml uses it)",
    ),
    "stale variable in the example": (
        ".env.example",
        _replace("IMAGE=", "OLD_IMAGE=x\nIMAGE="),
        ".env.example: OLD_IMAGE is not used",
    ),
    "required value left empty": (
        ".env.example",
        _replace("KAFKA_CLUSTER_ID=LmZsKE9KT8K04RFnMM0I6w", "KAFKA_CLUSTER_ID="),
        "interpolation: required variable KAFKA_CLUSTER_ID",
    ),
    "unknown setting": (
        "compose.yaml",
        _replace(
            '      MONITORING_STORAGE_PORT: "9465"\n',
            '      MONITORING_STORAGE_PORT: "9465"\n'
            '      MONITORING_STORAGE_TYPO: "1"\n',
        ),
        "MONITORING_STORAGE_TYPO: no such setting",
    ),
    "hard-coded password": (
        "compose.yaml",
        _replace(
            "MYSQL_ROOT_PASSWORD: ${MYSQL_ROOT_PASSWORD:?set MYSQL_ROOT_PASSWORD in"
            " compose/.env}",
            "MYSQL_ROOT_PASSWORD: root",
        ),
        "services/mysql/environment/MYSQL_ROOT_PASSWORD: a secret must be",
    ),
    "undeclared volume": (
        "compose.yaml",
        _replace("- kafka-data:/var/lib/kafka/data", "- kafka:/var/lib/kafka/data"),
        "services/kafka/volumes: 'kafka' undeclared",
    ),
    "missing Dockerfile": (
        "compose.yaml",
        _replace("dockerfile: compose/Dockerfile", "dockerfile: compose/Containerfile"),
        "/build: no Dockerfile",
    ),
    "wrong entrypoint": (
        "Dockerfile",
        _replace('ENTRYPOINT ["monitoring"]', 'ENTRYPOINT ["python"]'),
        'final ENTRYPOINT must be ["monitoring"]',
    ),
    "running as root": (
        "Dockerfile",
        _replace("USER monitoring:monitoring", "USER root"),
        "must switch to a non-root USER",
    ),
    "missing healthcheck": (
        "compose.yaml",
        _replace(
            '      test: ["CMD", "wget", "-q", "-O", "/dev/null", '
            '"http://127.0.0.1:9100/metrics"]\n',
            "      disable: true\n",
        ),
        "services/prometheus/depends_on/node-exporter: service_healthy, but it has "
        "no healthcheck",
    ),
}


def test_an_intact_copy_passes(copy_of_compose: Path, schema: dict[str, Any]) -> None:
    assert check_compose_dir(copy_of_compose, schema, SETTINGS_DIR, BEING_ADDED) == []


@pytest.mark.parametrize("breakage", sorted(BREAKAGES))
def test_a_broken_copy_fails(
    breakage: str, copy_of_compose: Path, schema: dict[str, Any]
) -> None:
    name, change, expected = BREAKAGES[breakage]
    path = copy_of_compose / name
    path.write_text(change(path.read_text()))
    errors = check_compose_dir(copy_of_compose, schema, SETTINGS_DIR, BEING_ADDED)
    assert any(expected in e for e in errors), errors


def test_a_missing_bind_mount_source_fails(
    copy_of_compose: Path, schema: dict[str, Any]
) -> None:
    (copy_of_compose / "prometheus.yml").unlink()
    assert check_compose_dir(copy_of_compose, schema, SETTINGS_DIR, BEING_ADDED) == [
        "services/prometheus/volumes: no ./prometheus.yml to bind"
    ]
