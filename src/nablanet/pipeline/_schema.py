"""Building blocks of the config schema (pydantic v2) and the one-line error formatter.

Every section of the config is a :class:`StrictModel`: unknown keys are errors (with a "did you
mean" hint), values are not coerced (``units: "32"`` is an error, not 32). Validation errors are
turned into lines such as ``model.layers[2].units: must be a positive integer, got -3``.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Callable, Iterable, Mapping
from typing import Annotated, Any, Literal, NoReturn

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    PlainValidator,
    ValidationError,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

__all__ = [
    "Fraction",
    "NonNegativeFloat",
    "NonNegativeInt",
    "PositiveFloat",
    "PositiveInt",
    "StrictModel",
    "Units",
    "fail_at",
    "format_validation_error",
    "name_in",
    "tagged_union",
]


def _custom(kind: str, message: str) -> PydanticCustomError:
    # braces would be read as template fields by pydantic-core
    return PydanticCustomError(kind, message.replace("{", "(").replace("}", ")"))


def _raise_at(
    owner: str, loc: str | tuple[str | int, ...], kind: str, message: str, value: Any
) -> NoReturn:
    loc = (loc,) if isinstance(loc, str) else tuple(loc)
    raise ValidationError.from_exception_data(
        owner, [InitErrorDetails(type=_custom(kind, message), loc=loc, input=value)]
    )


def fail_at(loc: tuple[str | int, ...], message: str, value: Any) -> NoReturn:
    """Raise a validation error at ``loc`` (relative to the model being validated); the message
    reads ``<path>: <message>, got <value>``."""
    _raise_at("config", loc, "invalid", message, value)


class StrictModel(BaseModel):
    """A config section: unknown keys are errors, no type coercion, assignment re-validated."""

    model_config = ConfigDict(extra="forbid", strict=True, validate_assignment=True)

    @model_validator(mode="before")
    @classmethod
    def _check_keys(cls, data: Any) -> Any:
        if isinstance(data, Mapping):
            allowed = sorted(cls.model_fields)
            errors = []
            for key in data:
                if key in cls.model_fields:
                    continue
                hint = difflib.get_close_matches(str(key), allowed, n=1, cutoff=0.6)
                msg = "unknown key" + (
                    f" (did you mean '{hint[0]}'?)"
                    if hint
                    else f"; valid keys here: {', '.join(allowed)}"
                )
                errors.append(
                    InitErrorDetails(
                        type=_custom("unknown_key", msg), loc=(str(key),), input=data[key]
                    )
                )
            if errors:
                raise ValidationError.from_exception_data(cls.__name__, errors)
        return data


# -- numbers ------------------------------------------------------------------------------------
def _positive_int(v: int) -> int:
    if v <= 0:
        raise _custom("positive_int", "must be a positive integer")
    return v


def _nonnegative_int(v: int) -> int:
    if v < 0:
        raise _custom("nonnegative_int", "must be a non-negative integer")
    return v


def _positive_float(v: float) -> float:
    if not (math.isfinite(v) and v > 0):
        raise _custom("positive_float", "must be a positive number")
    return float(v)


def _nonnegative_float(v: float) -> float:
    if not (math.isfinite(v) and v >= 0):
        raise _custom("nonnegative_float", "must be a non-negative number")
    return float(v)


def _fraction(v: float) -> float:
    if not (0.0 <= v < 1.0):
        raise _custom("fraction", "must be a fraction in [0, 1)")
    return float(v)


def _units(v: Any) -> int | str:
    if v == "auto" or (isinstance(v, int) and not isinstance(v, bool) and v > 0):
        return v
    raise _custom("units", "must be a positive integer or 'auto'")


PositiveInt = Annotated[int, AfterValidator(_positive_int)]
#: a positive integer or ``"auto"`` (taken from the data)
Units = Annotated[int | Literal["auto"], PlainValidator(_units)]
NonNegativeInt = Annotated[int, AfterValidator(_nonnegative_int)]
PositiveFloat = Annotated[float, AfterValidator(_positive_float)]
NonNegativeFloat = Annotated[float, AfterValidator(_nonnegative_float)]
Fraction = Annotated[float, AfterValidator(_fraction)]


def name_in(names: Callable[[], Iterable[str]], kind: str) -> AfterValidator:
    """A validator accepting exactly the names ``names()`` returns (read at validation time, so
    entries registered later are accepted)."""

    def check(value: str) -> str:
        known = sorted(names())
        if value not in known:
            hint = difflib.get_close_matches(value, known, n=1, cutoff=0.6)
            extra = f" (did you mean '{hint[0]}'?)" if hint else ""
            raise _custom(
                "unknown_name",
                f"unknown {kind} {value!r}{extra}; choose one of: {', '.join(known)}",
            )
        return value

    return AfterValidator(check)


def tagged_union(
    registry: Callable[[], Mapping[str, type[BaseModel]]], tag: str, kind: str
) -> Callable[[Any], Any]:
    """A ``BeforeValidator`` function dispatching a mapping to the model registered under its
    ``tag`` value (``{type: dense, ...}`` -> ``DenseSpec``). Errors keep their key paths."""

    def dispatch(value: Any) -> Any:
        if isinstance(value, BaseModel):
            return value
        if not isinstance(value, Mapping):
            raise _custom("mapping", f"must be a mapping with a '{tag}' key")
        models = registry()
        options = ", ".join(sorted(models))
        if tag not in value:
            _raise_at(
                kind, tag, "missing", f"required key is missing; choose one of: {options}", None
            )
        name = value[tag]
        if not isinstance(name, str) or name not in models:
            hint = difflib.get_close_matches(str(name), sorted(models), n=1, cutoff=0.6)
            extra = f" (did you mean '{hint[0]}'?)" if hint else ""
            _raise_at(
                kind,
                tag,
                "unknown_name",
                f"unknown {kind} {show_value(name)}{extra}; choose one of: {options}",
                name,
            )
        return models[name].model_validate(dict(value))

    return dispatch


# -- error messages -----------------------------------------------------------------------------
def show_value(value: Any) -> str:
    """A value as the user wrote it in YAML."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return repr(value)
    text = str(value)
    return text if len(text) <= 60 else text[:57] + "..."


def format_loc(loc: Iterable[Any]) -> str:
    """``("model", "layers", 2, "units")`` -> ``model.layers[2].units``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "<config>"


_TYPE_MESSAGES = {
    "int_type": "must be an integer",
    "int_parsing": "must be an integer",
    "int_from_float": "must be an integer",
    "float_type": "must be a number",
    "float_parsing": "must be a number",
    "bool_type": "must be true or false",
    "bool_parsing": "must be true or false",
    "string_type": "must be a string",
    "list_type": "must be a list",
    "dict_type": "must be a mapping (key: value)",
    "model_type": "must be a mapping (key: value)",
    "model_attributes_type": "must be a mapping (key: value)",
    "none_required": "must be null",
}


def error_line(err: Mapping[str, Any], prefix: Iterable[Any] = ()) -> str:
    """One line for one pydantic error dict."""
    path = format_loc([*prefix, *err.get("loc", ())])
    kind = err.get("type", "")
    if kind in ("missing", "unknown_key", "unknown_name"):
        msg = str(err.get("msg", ""))
        if kind == "missing" and msg.startswith("Field required"):
            msg = "required key is missing"
        return f"{path}: {msg}"
    if kind in _TYPE_MESSAGES:
        msg = _TYPE_MESSAGES[kind]
    elif kind in ("too_short", "too_long"):
        ctx = err.get("ctx", {})
        n = ctx.get("min_length") if kind == "too_short" else ctx.get("max_length")
        msg = f"must have {'at least' if kind == 'too_short' else 'at most'} {n} items"
    elif kind == "literal_error":
        msg = f"must be one of {err.get('ctx', {}).get('expected', '')}"
    elif kind == "value_error":
        msg = str(err.get("msg", "")).removeprefix("Value error, ")
    else:
        msg = str(err.get("msg", kind))
    return f"{path}: {msg}, got {show_value(err.get('input'))}"


def format_validation_error(exc: ValidationError, prefix: Iterable[Any] = ()) -> str:
    """All errors of ``exc`` as one line, the first one first."""
    lines = []
    for err in exc.errors(include_url=False):
        line = error_line(err, prefix)
        if line not in lines:
            lines.append(line)
    return "; ".join(lines)
