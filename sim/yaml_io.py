"""Reading YAML files strictly and turning pydantic validation errors into one-line problems."""

from __future__ import annotations

import types
import typing
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from sim.errors import ConfigError, Problem

ModelT = TypeVar("ModelT", bound=BaseModel)


class _StrictLoader(yaml.SafeLoader):
    """A safe loader that refuses duplicated mapping keys (PyYAML keeps the last one silently)."""


class _DuplicatedKeyError(yaml.constructor.ConstructorError):
    """A mapping key given twice."""

    def __init__(self, key: object, mark: yaml.Mark) -> None:
        super().__init__(None, None, f"duplicated key '{key}'", mark)
        self.key = key


def _construct_unique_mapping(loader: _StrictLoader, node: yaml.MappingNode, deep: bool = False) -> dict:
    """Build a mapping, raising on a key that appears twice."""
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise _DuplicatedKeyError(key, key_node.start_mark)
        seen.add(key)
    return loader.construct_mapping(node, deep=deep)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_unique_mapping)


def read_yaml_mapping(path: Path) -> dict[str, Any]:
    """Read a YAML file whose top level is a mapping; raise :class:`ConfigError` otherwise."""
    if path.is_dir():
        raise ConfigError.single(path, "-", "is a folder; give a YAML file (e.g. robot.yaml inside it)")
    if not path.is_file():
        raise ConfigError.single(path, "-", "file not found; check the path")
    try:
        data = yaml.load(path.read_text(), Loader=_StrictLoader)
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
    if not isinstance(data, dict):
        kind = "empty" if data is None else f"a {type(data).__name__}"
        raise ConfigError.single(path, "-", f"top level is {kind}; it must be a mapping of fields")
    return data


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
                message += f" (got {err['input']!r})"
        problems.append(Problem(str(path), field, message))
    return problems


def parse_model(path: Path | str, model: type[ModelT], data: dict[str, Any]) -> ModelT:
    """Validate ``data`` against ``model``; raise :class:`ConfigError` naming each bad field."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(problems_from_validation(path, model, exc)) from None
