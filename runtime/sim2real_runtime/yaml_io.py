"""Reading YAML files strictly and turning pydantic validation errors into one-line problems."""

from __future__ import annotations

import re
import types
import typing
from collections.abc import Hashable
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, Strict, ValidationError

from sim2real_runtime.errors import ConfigError, Problem

ModelT = TypeVar("ModelT", bound=BaseModel)

MAX_YAML_BYTES = 1 << 20
"""Largest YAML file read (1 MiB). Robot, task and training YAML files are a few KiB; PyYAML takes tens of
seconds to refuse megabytes of garbage, so a larger file is refused before it is parsed."""

FILE_MODEL_CONFIG = ConfigDict(extra="forbid", allow_inf_nan=False, frozen=True, strict=True)
"""``model_config`` of the models robot and task YAML files are read into: unknown keys refused, numbers
finite, values frozen, and no coercion: a number field takes numbers only (an int passes as a float,
``kp: 35``), never a boolean (``kp: yes``) or a string (``kp: "35"``); a boolean field takes booleans only."""

LIST_AS_TUPLE = Strict(False)
"""Marks a tuple field of a :data:`FILE_MODEL_CONFIG` model (``Annotated[tuple[float, float], LIST_AS_TUPLE]``):
it takes the list YAML gives, while its items stay strict."""


class _StrictLoader(yaml.SafeLoader):
    """A safe loader that refuses duplicated mapping keys (PyYAML keeps the last one silently)."""


class _DuplicatedKeyError(yaml.constructor.ConstructorError):
    """A mapping key given twice."""

    def __init__(self, key: object, mark: yaml.Mark) -> None:
        super().__init__(None, None, f"duplicated key '{key}'", mark)
        self.key = key


def _construct_unique_mapping(loader: _StrictLoader, node: yaml.MappingNode, deep: bool = False) -> dict:
    """Build a mapping, raising on a key that appears twice or that is a list or a mapping."""
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if not isinstance(key, Hashable):
            raise yaml.constructor.ConstructorError(None, None, "a list or mapping used as a key", key_node.start_mark)
        if key in seen:
            raise _DuplicatedKeyError(key, key_node.start_mark)
        seen.add(key)
    return loader.construct_mapping(node, deep=deep)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_unique_mapping)
# ``1e-3`` and ``2E5`` are numbers, as in YAML 1.2 (PyYAML's YAML 1.1 reads them as strings: it wants ``1.0e-3``).
_StrictLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9][0-9_]*(?:\.[0-9_]*)?|\.[0-9_]+)[eE][-+]?[0-9]+$"),
    list("-+.0123456789"),
)


def read_yaml_mapping(path: Path) -> dict[str, Any]:
    """Read a YAML file whose top level is a mapping; raise :class:`ConfigError` otherwise."""
    _check_readable(path)
    data = _load(path)
    if not isinstance(data, dict):
        kind = "empty" if data is None else f"a {type(data).__name__}"
        raise ConfigError.single(path, "-", f"top level is {kind}; it must be a mapping of fields")
    return data


def _check_readable(path: Path) -> None:
    """Refuse a folder, a missing file and a file over :data:`MAX_YAML_BYTES`."""
    if path.is_dir():
        raise ConfigError.single(path, "-", "is a folder; give a YAML file (e.g. robot.yaml inside it)")
    if not path.is_file():
        raise ConfigError.single(path, "-", "file not found; check the path")
    size = path.stat().st_size
    if size > MAX_YAML_BYTES:
        limit = MAX_YAML_BYTES / 2**20
        message = f"is {size / 2**20:.1f} MiB, over the {limit:g} MiB limit of YAML files; is it the file you meant?"
        raise ConfigError.single(path, "-", message)


def _load(path: Path) -> Any:
    """Parse a YAML file with :class:`_StrictLoader`; every failure is one :class:`ConfigError` line."""
    try:
        return yaml.load(path.read_text(), Loader=_StrictLoader)
    except _DuplicatedKeyError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark else "?"
        raise ConfigError.single(path, str(exc.key), f"key given twice (again at line {line}); keep one") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError.single(path, "-", f"invalid YAML{where}: {problem}; fix the syntax") from None
    except UnicodeDecodeError:
        raise ConfigError.single(path, "-", "not a UTF-8 text file; give a YAML file") from None
    except RecursionError:
        raise ConfigError.single(path, "-", "lists or mappings nested too deeply to read; flatten them") from None


def _format_loc(loc: tuple[int | str, ...]) -> str:
    """Render a pydantic error location as ``joints[1].kp``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "-"


def _model_at(model: type[BaseModel], loc: tuple[int | str, ...]) -> type[BaseModel] | None:
    """Follow a location through nested models, lists and optionals; None where it leaves models."""
    current: Any = model
    for part in loc:
        if isinstance(part, int):
            continue
        if not (isinstance(current, type) and issubclass(current, BaseModel)):
            return None
        field = current.model_fields.get(part)
        if field is None:
            return None
        current = _unwrap_model(field.annotation)
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


def _unwrap_model(annotation: Any) -> Any:
    """Find the pydantic model inside ``list[M]``, ``M | None`` and similar annotations."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    origin = typing.get_origin(annotation)
    if origin in (list, tuple, typing.Union, types.UnionType, typing.Annotated):
        for arg in typing.get_args(annotation):
            found = _unwrap_model(arg)
            if found is not None:
                return found
    return None


def problems_from_validation(path: Path | str, model: type[BaseModel], exc: ValidationError) -> list[Problem]:
    """Turn a pydantic :class:`ValidationError` into one :class:`Problem` per error, each with a fix."""
    problems = []
    for err in exc.errors(include_url=False):
        loc = tuple(err["loc"])
        field = _format_loc(loc)
        kind = err["type"]
        if kind == "extra_forbidden":
            parent = _model_at(model, loc[:-1])
            allowed = ", ".join(parent.model_fields) if parent else "see the documentation"
            message = f"unknown key; remove it or fix its spelling (allowed here: {allowed})"
        elif kind == "missing":
            message = "required field is missing; add it"
        else:
            message = err["msg"].removeprefix("Value error, ")
            if "input" in err and not isinstance(err["input"], dict | list):
                message += f" (got {err['input']!r}){_scalar_hint(kind, err['input'])}"
        problems.append(Problem(str(path), field, message))
    return problems


def _scalar_hint(kind: str, given: object) -> str:
    """How to write the number or boolean a strict field refused; empty for other errors."""
    if kind == "bool_type":
        return "; write true or false"
    if kind not in ("int_type", "float_type"):
        return ""
    if isinstance(given, bool):
        return "; YAML reads yes/no/true/false/on/off as booleans: write a number"
    if isinstance(given, str):
        return "; write a plain number (no quotes, no units)"
    if kind == "int_type" and isinstance(given, float):
        return "; write a whole number (no decimal point)"
    return ""


def parse_model(path: Path | str, model: type[ModelT], data: dict[str, Any]) -> ModelT:
    """Validate ``data`` against ``model``; raise :class:`ConfigError` naming each bad field."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(problems_from_validation(path, model, exc)) from None
