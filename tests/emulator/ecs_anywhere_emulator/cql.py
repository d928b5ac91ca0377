"""The ECS cluster query language, as ListContainerInstances `filter` uses it.

    expression := term (("||" | "or") term)*
    term       := factor (("&&" | "and") factor)*
    factor     := ("!" | "not") factor | "(" expression ")" | simple
    simple     := subject operator [argument]

Subjects: agentConnected, agentVersion, attribute:<name>, ec2InstanceId,
registeredAt, runningTasksCount, task:group. Operators: ==/equals,
!=/not_equals, >/greater_than, >=/greater_than_equal, </less_than,
<=/less_than_equal, exists, !exists/not_exists, in, !in/not_in,
=~/matches, !~/not_matches (Java-style whole-string regex)."""

from __future__ import annotations

import datetime as _dt
import re
from dataclasses import dataclass
from typing import Any, Callable


class QueryError(ValueError):
    pass


SYMBOL_OPS = ["==", "!=", ">=", "<=", "=~", "!~", ">", "<"]
WORD_OPS = {
    "equals": "==",
    "not_equals": "!=",
    "greater_than": ">",
    "greater_than_equal": ">=",
    "less_than": "<",
    "less_than_equal": "<=",
    "exists": "exists",
    "!exists": "!exists",
    "not_exists": "!exists",
    "in": "in",
    "!in": "!in",
    "not_in": "!in",
    "matches": "=~",
    "not_matches": "!~",
}
SUBJECT_OPS = {
    "agentConnected": {"==", "!=", "in", "!in", "=~", "!~"},
    "agentVersion": {"==", "!=", ">", ">=", "<", "<="},
    "ec2InstanceId": {"==", "!=", "in", "!in", "=~", "!~"},
    "registeredAt": {"==", "!=", ">", ">=", "<", "<="},
    "runningTasksCount": {"==", "!=", ">", ">=", "<", "<="},
    "task:group": {"==", "!=", "in", "!in", "=~", "!~", "exists", "!exists"},
}
ATTRIBUTE_OPS = set(WORD_OPS.values()) | set(SYMBOL_OPS)


@dataclass
class Simple:
    subject: str
    op: str
    arg: Any  # str | list[str] | None


@dataclass
class Not:
    inner: Any


@dataclass
class BoolOp:
    op: str  # "and" | "or"
    left: Any
    right: Any


class _Parser:
    def __init__(self, text: str) -> None:
        self.s = text
        self.i = 0

    def ws(self) -> None:
        while self.i < len(self.s) and self.s[self.i].isspace():
            self.i += 1

    def peek_word(self) -> str:
        self.ws()
        m = re.compile(r"[A-Za-z_!&|]+").match(self.s, self.i)
        return m.group(0) if m else ""

    def eat(self, token: str) -> bool:
        self.ws()
        if self.s.startswith(token, self.i):
            end = self.i + len(token)
            if token.isalpha() and end < len(self.s) and (self.s[end].isalnum() or self.s[end] in "_:."):
                return False
            self.i = end
            return True
        return False

    def parse(self) -> Any:
        expr = self.expression()
        self.ws()
        if self.i != len(self.s):
            raise QueryError(f"unexpected input at position {self.i}: {self.s[self.i:]!r}")
        return expr

    def expression(self) -> Any:
        left = self.term()
        while self.eat("||") or self.eat("or"):
            left = BoolOp("or", left, self.term())
        return left

    def term(self) -> Any:
        left = self.factor()
        while self.eat("&&") or self.eat("and"):
            left = BoolOp("and", left, self.factor())
        return left

    def factor(self) -> Any:
        self.ws()
        if self.eat("("):
            inner = self.expression()
            if not self.eat(")"):
                raise QueryError("missing closing parenthesis")
            return inner
        if self.eat("not"):
            return Not(self.factor())
        if self.s.startswith("!", self.i) and not self.s.startswith("!=", self.i):
            self.i += 1
            return Not(self.factor())
        return self.simple()

    def subject(self) -> str:
        self.ws()
        m = re.compile(r"[A-Za-z0-9_.:\-/]+").match(self.s, self.i)
        if not m:
            raise QueryError(f"expected a subject at position {self.i}")
        self.i = m.end()
        return m.group(0)

    def operator(self) -> str:
        self.ws()
        for op in SYMBOL_OPS:
            if self.s.startswith(op, self.i):
                # "!exists" / "!in" start with "!" too; symbols win only when exact.
                self.i += len(op)
                return op
        m = re.compile(r"!?[A-Za-z_]+").match(self.s, self.i)
        if m and m.group(0) in WORD_OPS:
            self.i = m.end()
            return WORD_OPS[m.group(0)]
        raise QueryError(f"expected an operator at position {self.i}")

    def literal(self) -> str:
        self.ws()
        if self.i < len(self.s) and self.s[self.i] in "'\"":
            quote = self.s[self.i]
            end = self.s.find(quote, self.i + 1)
            if end < 0:
                raise QueryError("unterminated quoted value")
            value = self.s[self.i + 1 : end]
            self.i = end + 1
            return value
        m = re.compile(r"[^\s,\[\]()]+").match(self.s, self.i)
        if not m:
            raise QueryError(f"expected a value at position {self.i}")
        self.i = m.end()
        return m.group(0)

    def simple(self) -> Simple:
        subject = self.subject()
        op = self.operator()
        if subject.startswith("attribute:"):
            if len(subject) == len("attribute:"):
                raise QueryError("attribute name missing")
            allowed = ATTRIBUTE_OPS
        elif subject in SUBJECT_OPS:
            allowed = SUBJECT_OPS[subject]
        else:
            raise QueryError(f"unknown subject {subject!r}")
        if op not in allowed:
            raise QueryError(f"operator {op!r} is not valid for {subject}")
        if op in ("exists", "!exists"):
            return Simple(subject, op, None)
        if op in ("in", "!in"):
            if not self.eat("["):
                raise QueryError("'in' expects a list like [a, b]")
            values = [self.literal()]
            while self.eat(","):
                values.append(self.literal())
            if not self.eat("]"):
                raise QueryError("missing ']' in argument list")
            return Simple(subject, op, values)
        return Simple(subject, op, self.literal())


def parse(text: str) -> Any:
    if not text or not text.strip():
        raise QueryError("empty filter")
    return _Parser(text).parse()


def _parse_date(text: str) -> _dt.datetime:
    t = text.strip().replace("Z", "+00:00")
    for candidate in (t, t.replace(" ", "T")):
        try:
            dt = _dt.datetime.fromisoformat(candidate)
            return dt if dt.tzinfo else dt.replace(tzinfo=_dt.timezone.utc)
        except ValueError:
            continue
    raise QueryError(f"invalid date {text!r}")


def _version_key(v: str) -> tuple:
    return tuple(int(x) if x.isdigit() else x for x in re.split(r"[.\-]", v.lstrip("v")))


def _compare(op: str, a: Any, b: Any) -> bool:
    return {
        "==": a == b,
        "!=": a != b,
        ">": a > b,
        ">=": a >= b,
        "<": a < b,
        "<=": a <= b,
    }[op]


@dataclass
class InstanceFacts:
    """What a query can look at on one container instance."""

    agent_connected: bool
    agent_version: str | None
    attributes: dict[str, str | None]
    ec2_instance_id: str
    registered_at: _dt.datetime
    running_tasks_count: int
    task_groups: list[str]


def _eval_simple(node: Simple, f: InstanceFacts) -> bool:
    subject, op, arg = node.subject, node.op, node.arg
    if subject.startswith("attribute:"):
        name = subject[len("attribute:") :]
        present = name in f.attributes
        if op == "exists":
            return present
        if op == "!exists":
            return not present
        values = [f.attributes[name]] if present and f.attributes[name] is not None else []
    elif subject == "task:group":
        if op == "exists":
            return bool(f.task_groups)
        if op == "!exists":
            return not f.task_groups
        values = list(f.task_groups)
    elif subject == "agentConnected":
        values = ["true" if f.agent_connected else "false"]
    elif subject == "agentVersion":
        if f.agent_version is None:
            return op == "!="
        try:
            return _compare(op, _version_key(f.agent_version), _version_key(str(arg)))
        except TypeError:
            return _compare(op, f.agent_version, str(arg))
    elif subject == "ec2InstanceId":
        values = [f.ec2_instance_id]
    elif subject == "registeredAt":
        return _compare(op, f.registered_at, _parse_date(str(arg)))
    elif subject == "runningTasksCount":
        try:
            return _compare(op, f.running_tasks_count, int(str(arg)))
        except ValueError:
            raise QueryError(f"runningTasksCount needs a number, got {arg!r}") from None
    else:  # pragma: no cover - rejected by the parser
        raise QueryError(subject)

    if op == "in":
        return any(v in arg for v in values)
    if op == "!in":
        return not any(v in arg for v in values)
    if op in ("=~", "!~"):
        try:
            rx = re.compile(str(arg))
        except re.error:
            raise QueryError(f"invalid pattern {arg!r}") from None
        hit = any(rx.fullmatch(v) for v in values)
        return hit if op == "=~" else not hit
    if op in ("==", "!="):
        hit = any(v == arg for v in values)
        return hit if op == "==" else not hit
    # ordering on attributes: numeric when both sides are numbers
    for v in values:
        try:
            if _compare(op, float(v), float(str(arg))):
                return True
        except ValueError:
            if _compare(op, v, str(arg)):
                return True
    return False


def evaluate(tree: Any, facts: InstanceFacts) -> bool:
    if isinstance(tree, BoolOp):
        if tree.op == "and":
            return evaluate(tree.left, facts) and evaluate(tree.right, facts)
        return evaluate(tree.left, facts) or evaluate(tree.right, facts)
    if isinstance(tree, Not):
        return not evaluate(tree.inner, facts)
    return _eval_simple(tree, facts)


def compile_filter(text: str) -> Callable[[InstanceFacts], bool]:
    tree = parse(text)
    return lambda facts: evaluate(tree, facts)
