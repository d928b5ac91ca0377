"""IAM policy `Condition` blocks, evaluated against a request context.

moto's evaluator treats a failed condition on an Allow statement as an
explicit deny; IAM treats it as "statement does not apply". This module is
the IAM semantics for the operators the project's policies use."""

from __future__ import annotations

import fnmatch
import re
from typing import Any, Mapping


def _values(v: Any) -> list[str]:
    if isinstance(v, list):
        return [str(x) for x in v]
    if isinstance(v, bool):
        return ["true" if v else "false"]
    return [str(v)]


def _like(pattern: str, value: str) -> bool:
    # IAM wildcards: * any run, ? one character; everything else literal.
    rx = "".join(
        ".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern
    )
    return re.fullmatch(rx, value, re.DOTALL) is not None


def _arn_like(pattern: str, value: str) -> bool:
    p_parts = pattern.split(":", 5)
    v_parts = value.split(":", 5)
    if len(p_parts) != len(v_parts):
        return _like(pattern, value)
    return all(_like(p, v) for p, v in zip(p_parts, v_parts))


def _num(x: str) -> float | None:
    try:
        return float(x)
    except ValueError:
        return None


def _match_one(base: str, expected: str, actual: str) -> bool | None:
    """True/False for a known operator, None for an unknown one."""
    if base in ("StringEquals", "ArnEquals_exact"):
        return actual == expected
    if base == "StringEqualsIgnoreCase":
        return actual.lower() == expected.lower()
    if base == "StringLike":
        return _like(expected, actual)
    if base in ("ArnEquals", "ArnLike"):
        return _arn_like(expected, actual)
    if base == "Bool":
        return actual.lower() == expected.lower()
    if base.startswith("Numeric"):
        a, e = _num(actual), _num(expected)
        if a is None or e is None:
            return False
        return {
            "NumericEquals": a == e,
            "NumericLessThan": a < e,
            "NumericLessThanEquals": a <= e,
            "NumericGreaterThan": a > e,
            "NumericGreaterThanEquals": a >= e,
        }.get(base)
    return None


_NEGATED = {
    "StringNotEquals": "StringEquals",
    "StringNotEqualsIgnoreCase": "StringEqualsIgnoreCase",
    "StringNotLike": "StringLike",
    "ArnNotEquals": "ArnEquals",
    "ArnNotLike": "ArnLike",
    "NumericNotEquals": "NumericEquals",
}


def _lookup(ctx: Mapping[str, Any], key: str) -> list[str] | None:
    for k, v in ctx.items():
        if k.lower() == key.lower():
            return None if v is None else _values(v)
    return None


def conditions_hold(condition: Mapping[str, Any], ctx: Mapping[str, Any]) -> bool:
    for raw_op, block in condition.items():
        if not isinstance(block, Mapping):
            return False
        op = raw_op
        quantifier = None
        if ":" in op:
            quantifier, op = op.split(":", 1)
        if_exists = op.endswith("IfExists")
        if if_exists:
            op = op[: -len("IfExists")]
        for key, expected_raw in block.items():
            expected = _values(expected_raw)
            actual = _lookup(ctx, key)
            if op == "Null":
                want_null = expected[0].lower() == "true"
                if (actual is None) != want_null:
                    return False
                continue
            if actual is None:
                if if_exists or op in _NEGATED:
                    # Missing key: ...IfExists and negated operators hold.
                    continue
                return False
            negated = op in _NEGATED
            base = _NEGATED.get(op, op)

            def any_expected(a: str) -> bool | None:
                results = [_match_one(base, e, a) for e in expected]
                if any(r is None for r in results):
                    return None
                return any(results)

            per_value = [any_expected(a) for a in actual]
            if any(r is None for r in per_value):
                return False  # unknown operator: never satisfied
            if quantifier == "ForAllValues":
                ok = all(per_value)
            else:
                ok = any(per_value)
            if negated:
                ok = not ok
            if not ok:
                return False
    return True


def glob_match(pattern: str, value: str) -> bool:
    return fnmatch.fnmatchcase(value, pattern)
