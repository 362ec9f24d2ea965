"""Checking Compose files without a Docker engine.

Interpolation of ``${VAR}``-style references as Compose does it, a small
``.env`` reader, validation against the Compose Specification JSON schema, and
the cross-reference checks a schema cannot express (dependencies, build files,
volumes, variables, secrets, the Dockerfile). Every check returns a list of
problems (empty: fine) so that one run reports them all.
"""

import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import jsonschema
import yaml

NAME = r"[A-Za-z_][A-Za-z0-9_]*"
_NAME = re.compile(NAME)
_BRACED = re.compile(rf"(?P<name>{NAME})(?:(?P<op>:?[-?+])(?P<arg>.*))?", re.DOTALL)
_REFERENCE = re.compile(rf"\$(?:\$|\{{?({NAME}))")
_MONITORING = re.compile(r"\bMONITORING_[A-Z0-9_]+\b")
_SECRET_KEY = re.compile(r"PASSWORD|TOKEN|SECRET", re.IGNORECASE)
_REQUIRED = re.compile(rf"\$\{{{NAME}:?\?[^}}]*\}}")
_URL_PASSWORD = re.compile(r"://[^/\s:@]+:(?P<password>[^@\s]+)@")


class InterpolationError(ValueError):
    """A reference Compose would refuse: bad syntax or a required variable."""


class Interpolator:
    """Compose's interpolation: ``$VAR``, ``${VAR}``, ``$$`` and the modifiers
    ``:-`` ``-`` (default), ``:?`` ``?`` (required), ``:+`` ``+`` (alternative);
    with a colon an empty value counts as unset. Defaults may nest references.
    Names referenced but unset (without modifier) are collected in ``unset``.
    """

    def __init__(self, env: Mapping[str, str]) -> None:
        self.env = env
        self.unset: set[str] = set()

    def __call__(self, text: str) -> str:
        out: list[str] = []
        i = 0
        while (j := text.find("$", i)) >= 0:
            out.append(text[i:j])
            following = text[j + 1 : j + 2]
            if following == "$":
                out.append("$")
                i = j + 2
            elif following == "{":
                end = _closing_brace(text, j + 2)
                out.append(self._braced(text[j + 2 : end]))
                i = end + 1
            elif match := _NAME.match(text, j + 1):
                out.append(self._plain(match.group()))
                i = match.end()
            else:
                raise InterpolationError(f"invalid interpolation format in {text!r}")
        out.append(text[i:])
        return "".join(out)

    def _plain(self, name: str) -> str:
        value = self.env.get(name)
        if value is None:
            self.unset.add(name)
            return ""
        return value

    def _braced(self, expression: str) -> str:
        match = _BRACED.fullmatch(expression)
        if match is None:
            raise InterpolationError(f"invalid interpolation format: ${{{expression}}}")
        name, op, arg = match.group("name", "op", "arg")
        if op is None:
            return self._plain(name)
        value = self.env.get(name)
        given = bool(value) if op.startswith(":") else value is not None
        kind = op[-1]
        if kind == "?":
            if not given:
                raise InterpolationError(f"required variable {name}: {arg}")
            return value or ""
        if kind == "-":
            return (value or "") if given else self(arg)
        return self(arg) if given else ""  # "+": the alternative value


def _closing_brace(text: str, start: int) -> int:
    depth, i = 1, start
    while i < len(text):
        if text.startswith("$$", i):
            i += 2
            continue
        if text.startswith("${", i):
            depth, i = depth + 1, i + 2
            continue
        if text[i] == "}":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    raise InterpolationError(f"unterminated ${{ in {text!r}")


def map_strings(node: Any, change: Callable[[str], str]) -> Any:
    """A copy of a YAML tree with every string value (not key) changed."""
    if isinstance(node, dict):
        return {key: map_strings(value, change) for key, value in node.items()}
    if isinstance(node, list):
        return [map_strings(item, change) for item in node]
    return change(node) if isinstance(node, str) else node


def strings(node: Any) -> Iterator[str]:
    """Every string in a YAML tree, keys included."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield from strings(key)
            yield from strings(value)
    elif isinstance(node, list):
        for item in node:
            yield from strings(item)
    elif isinstance(node, str):
        yield node


def referenced_variables(raw: Any) -> set[str]:
    """Names of the variables a (not yet interpolated) tree refers to."""
    return {
        m.group(1) for s in strings(raw) for m in _REFERENCE.finditer(s) if m.group(1)
    }


def read_env_file(path: Path) -> dict[str, str]:
    """``KEY=value`` lines as Compose reads them: ``#`` comments, optional
    ``export``, single quotes literal, double quotes with backslash escapes."""
    env: dict[str, str] = {}
    for number, line in enumerate(path.read_text().splitlines(), 1):
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        key, sep, value = text.removeprefix("export ").partition("=")
        if not sep or not re.fullmatch(NAME, key.strip()):
            raise ValueError(f"{path}:{number}: not KEY=value: {line!r}")
        env[key.strip()] = _env_value(value.strip())
    return env


def _env_value(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] == "'":
        return value[1:-1]
    if len(value) >= 2 and value[0] == value[-1] == '"':
        return re.sub(r"\\(.)", r"\1", value[1:-1])
    return re.split(r"\s+#", value, maxsplit=1)[0]


def load_yaml(path: Path) -> Any:
    """The YAML tree (anchors and ``<<`` merge keys resolved)."""
    return yaml.safe_load(path.read_text())


def schema_errors(compose: Any, schema: dict[str, Any]) -> list[str]:
    """Where the (interpolated) file breaks the Compose Specification schema."""
    validator = jsonschema.Draft7Validator(schema)
    return [
        f"schema: {'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}"
        for e in sorted(validator.iter_errors(compose), key=lambda e: e.json_path)
    ]


# ------------------------------------------------------------ cross-references


def _depends_on(service: dict[str, Any]) -> dict[str, str]:
    """``depends_on`` as target -> condition, for both of its forms."""
    deps = service.get("depends_on") or {}
    if isinstance(deps, list):
        return dict.fromkeys(deps, "service_started")
    return {name: spec.get("condition", "") for name, spec in deps.items()}


def _has_healthcheck(service: dict[str, Any]) -> bool:
    check = service.get("healthcheck") or {}
    test = check.get("test")
    if check.get("disable") in (True, "true") or not test:
        return False
    return (test if isinstance(test, str) else test[0]) != "NONE"


def one_shot(service: dict[str, Any]) -> bool:
    """A container meant to run to completion (no restart policy)."""
    return str(service.get("restart", "no")) == "no"


def dependency_errors(services: dict[str, Any]) -> list[str]:
    """Targets exist, conditions fit the target, and there is no cycle."""
    errors = []
    for name, service in services.items():
        for target, condition in _depends_on(service).items():
            where = f"services/{name}/depends_on/{target}"
            if target not in services:
                errors.append(f"{where}: no service {target!r}")
            elif condition == "service_healthy" and not _has_healthcheck(
                services[target]
            ):
                errors.append(f"{where}: service_healthy, but it has no healthcheck")
            elif condition == "service_completed_successfully" and not one_shot(
                services[target]
            ):
                errors.append(f"{where}: waits for completion of a restarting service")
    return errors + _cycle_errors(services)


def _cycle_errors(services: dict[str, Any]) -> list[str]:
    graph = {name: set(_depends_on(s)) & set(services) for name, s in services.items()}
    done: set[str] = set()
    while True:
        ready = {n for n, deps in graph.items() if n not in done and deps <= done}
        if not ready:
            break
        done |= ready
    left = set(graph) - done
    while True:  # drop those only waiting for a cycle: keep the cycle itself
        needed = left & {d for n in left for d in graph[n]}
        if needed == left:
            break
        left = needed
    return [f"depends_on: cycle among {', '.join(sorted(left))}"] if left else []


def healthcheck_errors(services: dict[str, Any]) -> list[str]:
    """Every long-running (restarting) container has a healthcheck."""
    return [
        f"services/{name}: restarts ({service.get('restart')}) but has no healthcheck"
        for name, service in services.items()
        if not one_shot(service) and not _has_healthcheck(service)
    ]


def build_files(compose_dir: Path, service: dict[str, Any]) -> tuple[Path, Path]:
    """The build context and the Dockerfile of a service with ``build``."""
    build = service["build"]
    spec = {"context": build} if isinstance(build, str) else build
    context = (compose_dir / spec.get("context", ".")).resolve()
    return context, context / spec.get("dockerfile", "Dockerfile")


def build_errors(compose_dir: Path, services: dict[str, Any]) -> list[str]:
    """Every ``build`` names an existing context and Dockerfile."""
    errors = []
    for name, service in services.items():
        if "build" not in service:
            continue
        context, dockerfile = build_files(compose_dir, service)
        if not context.is_dir():
            errors.append(f"services/{name}/build: no context directory {context}")
        elif not dockerfile.is_file():
            errors.append(f"services/{name}/build: no Dockerfile {dockerfile}")
    return errors


def _mounts(service: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """(type, source) of each entry of a service's ``volumes``."""
    for entry in service.get("volumes") or []:
        if isinstance(entry, dict):
            yield entry.get("type", "volume"), str(entry.get("source", ""))
            continue
        parts = entry.split(":")
        if len(parts) == 1:
            yield "volume", ""  # anonymous volume
        elif parts[0].startswith(("/", ".", "~")):
            yield "bind", parts[0]
        else:
            yield "volume", parts[0]


def _bind_source_exists(compose_dir: Path, source: str) -> bool:
    """Relative sources are the stack's own files; host paths are not checked."""
    return not source.startswith(".") or (compose_dir / source).exists()


def volume_errors(compose_dir: Path, compose: dict[str, Any]) -> list[str]:
    """Named volumes are declared (and declared ones used); bind sources exist."""
    declared = set(compose.get("volumes") or {})
    used: set[str] = set()
    errors = []
    for name, service in compose.get("services", {}).items():
        for kind, source in _mounts(service):
            if kind == "volume" and source:
                used.add(source)
                if source not in declared:
                    errors.append(f"services/{name}/volumes: {source!r} undeclared")
            elif kind == "bind" and not _bind_source_exists(compose_dir, source):
                errors.append(f"services/{name}/volumes: no {source} to bind")
    errors += [f"volumes/{v}: declared but unused" for v in sorted(declared - used)]
    return errors


def variable_errors(used: Iterable[str], example: Mapping[str, str]) -> list[str]:
    """Every interpolated variable is in .env.example, and nothing else is."""
    used = set(used)
    return [
        f".env.example: no {name} (compose.yaml uses it)"
        for name in sorted(used - set(example))
    ] + [f".env.example: {name} is not used" for name in sorted(set(example) - used)]


def monitoring_variables(raw: Any) -> set[str]:
    """Every ``MONITORING_*`` name in the tree: keys, values, probe code."""
    return {m.group() for s in strings(raw) for m in _MONITORING.finditer(s)}


def settings_errors(
    names: Iterable[str], settings_dir: Path, being_added: Iterable[str] = ()
) -> list[str]:
    """Each ``MONITORING_*`` name is read somewhere under ``settings_dir``
    (the project's ``src/apps``) or is one of those ``being_added``."""
    code = "\n".join(p.read_text() for p in sorted(settings_dir.rglob("*.py")))
    allowed = set(being_added)
    return [
        f"{name}: no such setting in {settings_dir}"
        for name in sorted(set(names) - allowed)
        if not re.search(rf"\b{name}\b", code)
    ]


def secret_errors(services: dict[str, Any]) -> list[str]:
    """Secrets come from the environment, never from compose.yaml itself:
    a ``*PASSWORD*``/``*TOKEN*``/``*SECRET*`` variable is exactly one
    ``${VAR?..}``/``${VAR:?..}`` reference, and URLs carry no literal password."""
    errors = []
    for name, service in services.items():
        environment = service.get("environment") or {}
        if isinstance(environment, list):
            environment = dict(item.partition("=")[::2] for item in environment)
        for key, value in environment.items():
            where = f"services/{name}/environment/{key}"
            text = "" if value is None else str(value)
            if _SECRET_KEY.search(key) and not _REQUIRED.fullmatch(text):
                errors.append(f"{where}: a secret must be ${{VAR?...}}, got {text!r}")
            for match in _URL_PASSWORD.finditer(text):
                if not _REQUIRED.fullmatch(match.group("password")):
                    errors.append(f"{where}: literal password in a URL")
    return errors


# ------------------------------------------------------------------ Dockerfile


def dockerfile_instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs: comments dropped, ``\\`` lines joined."""
    instructions = []
    pending = ""
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        keyword, _, arguments = (pending + stripped).partition(" ")
        instructions.append((keyword.upper(), arguments.strip()))
        pending = ""
    return instructions


def dockerfile_errors(dockerfile: Path, context: Path) -> list[str]:
    """FROM first, the final stage's ENTRYPOINT is ``monitoring`` (exec form),
    it does not run as root, and what COPY takes from the context exists."""
    instructions = dockerfile_instructions(dockerfile.read_text())
    keywords = [k for k, _ in instructions if k != "ARG"]
    errors = [] if keywords[:1] == ["FROM"] else [f"{dockerfile}: FROM must be first"]
    final = instructions[
        max(i for i, (k, _) in enumerate(instructions) if k == "FROM") :
    ]
    entrypoints = [json.loads(a) for k, a in final if k == "ENTRYPOINT"]
    if not entrypoints or entrypoints[-1][:1] != ["monitoring"]:
        errors.append(f'{dockerfile}: final ENTRYPOINT must be ["monitoring"]')
    users = [a.split(":")[0] for k, a in final if k == "USER"]
    if not users or users[-1] in ("root", "0"):
        errors.append(f"{dockerfile}: the final stage must switch to a non-root USER")
    for keyword, arguments in instructions:
        words = arguments.split()
        if keyword in ("COPY", "ADD") and not any(
            w.startswith("--from") for w in words
        ):
            sources = [w for w in words[:-1] if not w.startswith("--")]
            errors += [
                f"{dockerfile}: COPY source {s} not in the build context"
                for s in sources
                if not (context / s).exists()
            ]
    return errors


# ------------------------------------------------------------------ everything


def with_example_passwords(env: Mapping[str, str]) -> dict[str, str]:
    """``env`` with each empty ``*PASSWORD*`` (left to the user) filled in."""
    return {
        key: (value or f"example-{key.lower()}") if "PASSWORD" in key else value
        for key, value in env.items()
    }


def check_compose_dir(
    compose_dir: Path,
    schema: dict[str, Any],
    settings_dir: Path,
    being_added: Iterable[str] = (),
) -> list[str]:
    """Every problem of ``compose_dir``'s compose.yaml, .env.example and
    Dockerfile, interpolated with the example values (passwords filled in).
    Schema errors stop the checks that rely on the file's structure."""
    raw = load_yaml(compose_dir / "compose.yaml")
    example = read_env_file(compose_dir / ".env.example")
    names = monitoring_variables(raw) | {k for k in example if k.startswith("MONI")}
    errors = variable_errors(referenced_variables(raw), example)
    errors += settings_errors(names, settings_dir, being_added)
    errors += secret_errors(raw.get("services") or {})
    interpolate = Interpolator(with_example_passwords(example))
    try:
        compose = map_strings(raw, interpolate)
    except InterpolationError as exc:
        return [*errors, f"interpolation: {exc}"]
    errors += [f"interpolation: {n} is not set" for n in sorted(interpolate.unset)]
    structure = schema_errors(compose, schema)
    if structure:
        return errors + structure
    services = compose["services"]
    errors += dependency_errors(services) + healthcheck_errors(services)
    errors += build_errors(compose_dir, services) + volume_errors(compose_dir, compose)
    builds = {build_files(compose_dir, s) for s in services.values() if "build" in s}
    for context, dockerfile in sorted(builds):
        if dockerfile.is_file():
            errors += dockerfile_errors(dockerfile, context)
    return errors
