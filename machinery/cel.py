"""The CEL environment shared by CRD validation rules, ValidatingAdmissionPolicy and matchConditions.

Expressions are parsed by cel-python (`celpy`) and run by its interpreter, extended here with kube's CEL
library (`machinery.cel_library`) and a cost meter, so a hostile rule is cut off instead of hanging the server:

    program = compile_rule("self.replicas <= self.maxReplicas")   # CompileError: "compilation failed: ..."
    evaluate(program, {"self": {"replicas": 3, "maxReplicas": 5}})  # -> True; EvaluationError on failure

Values go in as plain JSON-like Python (dict, list, str, int, float, bool, None) or already-converted celpy
values (`to_cel`, which `machinery.celrules` uses to give schema types: number -> double, format byte ->
bytes, date-time -> timestamp, escaped property names), and come out as plain Python (`from_cel`).

Supported:
- the CEL language celpy parses: literals, arithmetic, comparison (numbers compared across int, uint and
  double, as kube's CrossTypeNumericComparisons), `in`, ternary, `&&`/`||` with CEL's error absorption,
  indexing, field selection, `has()`, `dyn()`, `size()`, `type()`, `int()`/`uint()`/`double()`/`string()`/
  `bytes()`/`bool()`/`duration()`/`timestamp()`, timestamp and duration accessors, `matches()`,
  `startsWith()`, `endsWith()`, `contains()`;
- macros `all`, `exists`, `exists_one`/`existsOne`, `map` (also the 3-argument filtering form), `filter`, the
  two-variable forms `all(i, v, ...)`, `exists(i, v, ...)`, `existsOne(i, v, ...)`, and `cel.bind(v, init, e)`;
- strings: `charAt`, `indexOf`, `lastIndexOf`, `lowerAscii`, `upperAscii`, `replace`, `split`, `substring`,
  `trim`, `join`, `reverse`, `format` (%s %d %f %e %b %o %x %X %%), `strings.quote`;
- lists: `isSorted`, `sum`, `min`, `max`, `indexOf`, `lastIndexOf`, `includes`, `slice`, `flatten`,
  `distinct`, `sort`, `reverse`, `lists.range`; sets: `sets.contains`, `sets.equivalent`, `sets.intersects`;
- regex (RE2): `find`, `findAll` (with optional limit), `matches`;
- quantity: `quantity`, `isQuantity`, `sign`, `isGreaterThan`, `isLessThan`, `compareTo`, `asInteger`,
  `isInteger`, `asApproximateFloat`, `add`, `sub` (quantity or int), `mul`;
- URLs: `url`, `isURL`, `getScheme`, `getHost`, `getHostname`, `getPort`, `getEscapedPath`, `getQuery`;
- IPs and CIDRs: `ip`, `isIP`, `ip.isCanonical`, `family`, `isUnspecified`, `isLoopback`,
  `isLinkLocalMulticast`, `isLinkLocalUnicast`, `isGlobalUnicast`, `cidr`, `isCIDR`, `containsIP`,
  `containsCIDR`, `ip()` of a CIDR, `masked`, `prefixLength`, `string()` of both;
- semver: `semver`, `isSemver` (with the normalize flag), `major`, `minor`, `patch`, `compareTo`,
  `isGreaterThan`, `isLessThan`;
- optionals as far as `optionalOldSelf` needs: `hasValue()`, `value()`, `orValue()`, `optional.of()`,
  `optional.none()`; `base64.encode`/`base64.decode`.

Not supported (yet):
- static type checking: a misspelled field or a rule that does not return a bool is reported when it runs
  (`no such key: x evaluating rule: ...`), not at CRD creation; compile time catches syntax errors, undeclared
  variables and functions, and malformed macros;
- static cost estimation (`estimated rule cost exceeds budget`): rules are bounded at run time instead, by
  PER_CALL_LIMIT interpreter steps and a wall-clock PER_CALL_TIMEOUT, each CEL step costing one unit rather
  than cel-go's per-function cost model;
- optional syntax (`a.?b`, `[?x]`, `{?k: v}`) and the rest of the optional library (`optional.ofNonZeroValue`,
  `or`, `optMap`...);
- kube's `format` library (`format.dns1123Label()...`), `authorizer`, `jsonpatch`, `image` and `pod` libraries,
  quantity `div`/`divInt`, cel-go's `math.*`, `strings.*` beyond `quote`, `transformList`/`transformMap`,
  `sortBy`, `first`/`last`;
- homogeneous-literal checks (`[1, 'a']` is accepted), and `list-type: set`/`map` equality that ignores order.
"""

from __future__ import annotations

import datetime
import functools
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, cast

import lark
from celpy import celtypes
from celpy.celparser import CELParseError, CELParser
from celpy.evaluation import Activation, CELEvalError, Evaluator, base_functions

from machinery.cel_library import (
    FUNCTIONS,
    LibraryError,
    Optional,
    equal,
    format_value,
    is_number,
    library_error,
    make_int,
    type_name,
)

# kube's PerCallLimit (k8s.io/apiserver/pkg/apis/cel/config.go) is 1,000,000 cel-go cost units, about 0.1 s of
# Go. One unit here is one interpreter step, 2.5-8 us in celpy (measured on a busy 2-core machine), so 100,000
# steps take 0.25-0.8 s; the wall clock caps a call whatever its steps cost (a long regex, a huge string).
PER_CALL_LIMIT = 100_000
PER_CALL_TIMEOUT = 1.0  # seconds
# kube's RuntimeCELCostBudget is ten calls' worth, for all the rules of one object.
RUNTIME_COST_BUDGET = 10 * PER_CALL_LIMIT
# cel-go's parser has a recursion limit too; celpy's interpreter needs about seven Python frames per level,
# and Python's default stack is 1000 frames.
MAX_NESTING = 100

CRD_VARIABLES = frozenset({"self", "oldSelf"})
_TYPE_NAMES = frozenset({"bool", "bytes", "double", "duration", "int", "list", "map", "null_type", "string",
                         "timestamp", "type", "uint", "dyn"})
_MACROS = frozenset({"all", "exists", "exists_one", "existsOne", "map", "filter"})
_NAMESPACES = frozenset(name.partition(".")[0] for name in FUNCTIONS if "." in name) | {"cel"}
# Nodes that pass their only child's value through unchanged: collapsed once at compile time, since celpy
# would otherwise visit the whole precedence chain (expr -> conditionalor -> ... -> member) for every leaf.
_PASS_THROUGH = frozenset({"expr", "conditionalor", "conditionaland", "relation", "addition", "multiplication",
                           "unary", "member"})
_CLOCK_EVERY = 256  # meter steps between wall-clock checks


class CELError(Exception):
    """Base of the errors this module raises; `str()` is the message kube would print."""


class CompileError(CELError):
    """The expression does not compile; the message starts with `compilation failed: ` as kube's does."""


class EvaluationError(CELError):
    """The expression failed while running (`no such key: x`, `division by zero`, ...)."""


class CostLimitExceeded(EvaluationError):
    """The cost limit or the wall-clock limit of one call ran out."""

    def __init__(self) -> None:
        super().__init__("operation cancelled: actual cost limit exceeded")


@dataclass(frozen=True, eq=False)
class Program:
    """A compiled expression: its source, the variables it reads, and its (collapsed) syntax tree."""

    expression: str
    references: frozenset[str]
    ast: lark.Tree
    literals: Mapping[int, Any]  # literal values by id() of their node, parsed once instead of per visit

    @property
    def uses_old_self(self) -> bool:
        """Whether this is a transition rule (it reads `oldSelf`)."""
        return "oldSelf" in self.references


def compile_rule(expression: str, *, variables: Iterable[str] | None = CRD_VARIABLES) -> Program:
    """Parse and check `expression`; cached per expression and variable set.

    `variables` are the names the expression may read (`self`, `oldSelf` for CRD rules; `object`, `request`...
    for admission); None skips the undeclared-variable check.
    """
    return _compile(expression, None if variables is None else frozenset(variables))


@functools.lru_cache(maxsize=4096)
def _compile(expression: str, variables: frozenset[str] | None) -> Program:
    tree = _parse(expression)
    tree = _collapse(tree)
    issues: list[str] = []
    references: set[str] = set()
    _check(tree, expression, variables, frozenset(), references, issues, 0)
    if issues:
        raise CompileError("compilation failed: " + "\n".join(issues))
    reader = _Evaluator(tree, {}, _Meter(0, 0.0), {})
    literals = {id(node): reader.literal(node) for node in tree.iter_subtrees() if node.data == "literal"}
    return Program(expression, frozenset(references), tree, literals)


_PARSER_LOCK = threading.Lock()
_PARSER: CELParser | None = None


def _parse(expression: str) -> lark.Tree:
    global _PARSER
    with _PARSER_LOCK:
        if _PARSER is None:
            _PARSER = CELParser()
        try:
            return _PARSER.parse(expression)
        except CELParseError as err:
            cause = err.__context__
            line, column = err.line or 1, err.column or 1
            if isinstance(cause, lark.exceptions.UnexpectedToken) and cause.token.type == "$END":
                lines = expression.splitlines() or [""]
                line, column = len(lines), len(lines[-1]) + 1  # cel-go places <EOF> just past the input
            raise CompileError("compilation failed: " + _issue(expression, line, column, _syntax(cause))) from None
        except lark.exceptions.LarkError as err:
            raise CompileError("compilation failed: " + _issue(expression, 1, 1, f"Syntax error: {err}")) from None


def _syntax(cause: BaseException | None) -> str:
    if isinstance(cause, lark.exceptions.UnexpectedToken):
        token = "<EOF>" if cause.token.type == "$END" else str(cause.token)
        return f"Syntax error: mismatched input '{token}'"
    if isinstance(cause, lark.exceptions.UnexpectedCharacters):
        return f"Syntax error: token recognition error at: '{cause.char}'"
    return "Syntax error"


def _issue(expression: str, line: int, column: int, message: str) -> str:
    """cel-go's issue format: `ERROR: <input>:1:5: message`, the source line and a caret under the column."""
    lines = expression.splitlines() or [""]
    source = lines[min(line, len(lines)) - 1]
    return f"ERROR: <input>:{line}:{column}: {message}\n | {source}\n | {'.' * (column - 1)}^"


def _collapse(tree: lark.Tree) -> lark.Tree:
    """Replace each single-child pass-through node by its child, bottom-up, without recursion limits."""
    stack = [tree]
    while stack:
        node = stack.pop()
        node.data = str(node.data)  # a plain str: lark's Token compares slower on every dispatch
        for i, child in enumerate(node.children):
            if isinstance(child, lark.Tree):
                node.children[i] = child = _skip(child)
                stack.append(child)
    return _skip(tree)


def _skip(node: lark.Tree) -> lark.Tree:
    while node.data in _PASS_THROUGH and len(node.children) == 1 and isinstance(node.children[0], lark.Tree):
        node = node.children[0]
    return node


def _position(node: lark.Tree | lark.Token) -> tuple[int, int]:
    if isinstance(node, lark.Token):
        return node.line or 1, node.column or 1
    meta = node.meta
    return (meta.line, meta.column) if not meta.empty else (1, 1)


def _ident(node: Any) -> str | None:
    """The name if `node` is a bare identifier."""
    if isinstance(node, lark.Tree) and node.data == "primary" and len(node.children) == 1:
        child = node.children[0]
        if isinstance(child, lark.Tree) and child.data == "ident":
            return str(child.children[0])
    return None


def _known_function(name: str) -> bool:
    return name in FUNCTIONS or name in base_functions


def _check(node: lark.Tree, source: str, variables: frozenset[str] | None, bound: frozenset[str],
           references: set[str], issues: list[str], depth: int) -> None:
    """The checks cel-go makes that need no types: declared names, known functions, well-formed macros."""
    if depth > MAX_NESTING:
        if not any("max recursion depth" in issue for issue in issues):
            issues.append(_issue(source, *_position(node), "expression nested too deeply: max recursion depth "
                                 f"exceeded ({MAX_NESTING})"))
        return
    data = node.data
    if data == "ident":
        name = str(node.children[0])
        if name not in bound:
            references.add(name)
            if variables is not None and name not in variables and name not in _TYPE_NAMES:
                issues.append(_issue(source, *_position(node), f"undeclared reference to '{name}' (in container '')"))
        return
    if data == "ident_arg":
        name = str(node.children[0])
        args = node.children[1].children if len(node.children) > 1 else []
        if name == "has":
            if len(args) != 1 or not (isinstance(args[0], lark.Tree) and _is_field_selection(args[0])):
                issues.append(_issue(source, *_position(node), "invalid argument to has() macro"))
        elif name != "dyn" and not _known_function(name):
            issues.append(_issue(source, *_position(node), f"undeclared reference to '{name}' (in container '')"))
    if data == "member_dot_arg":
        _check_call(node, source, variables, bound, references, issues, depth)
        return
    for child in node.children:
        if isinstance(child, lark.Tree):
            _check(child, source, variables, bound, references, issues, depth + 1)


def _is_field_selection(node: lark.Tree) -> bool:
    if node.data == "member_dot":
        return True
    if node.data == "primary" and isinstance(node.children[0], lark.Tree) and node.children[0].data == "paren_expr":
        inner = node.children[0].children[0]
        return isinstance(inner, lark.Tree) and _is_field_selection(inner)
    return False


def _check_call(node: lark.Tree, source: str, variables: frozenset[str] | None, bound: frozenset[str],
                references: set[str], issues: list[str], depth: int) -> None:
    target, name_token = node.children[0], node.children[1]
    name = str(name_token)
    args: list[Any] = list(node.children[2].children) if len(node.children) > 2 else []
    namespace = _ident(target)
    if namespace in _NAMESPACES and namespace not in bound and (variables is None or namespace not in variables):
        if namespace == "cel" and name == "bind":
            var = _ident(args[0]) if len(args) == 3 else None
            if var is None:
                issues.append(_issue(source, *_position(name_token), "argument must be a simple name"))
                return
            _check(args[1], source, variables, bound, references, issues, depth + 1)
            _check(args[2], source, variables, bound | {var}, references, issues, depth + 1)
            return
        if f"{namespace}.{name}" not in FUNCTIONS:
            issues.append(_issue(source, *_position(name_token),
                                 f"undeclared reference to '{namespace}.{name}' (in container '')"))
        for arg in args:
            _check(arg, source, variables, bound, references, issues, depth + 1)
        return
    _check(target, source, variables, bound, references, issues, depth + 1)
    if name in _MACROS and args:
        names = [_ident(a) for a in args[:-1]]
        shape_ok = (len(args) == 2 or (len(args) == 3 and name != "filter")) and names[0] is not None
        if name != "map" and len(args) == 3:
            shape_ok = shape_ok and names[1] is not None
        if not shape_ok:
            issues.append(_issue(source, *_position(name_token), "argument must be a simple name"
                                 if len(args) in (2, 3) else f"found no matching overload for '{name}'"))
            return
        count = 1 if len(args) == 2 or name == "map" else 2
        declared = frozenset(cast(str, n) for n in names[:count])
        for arg in args[count:]:
            _check(arg, source, variables, bound | declared, references, issues, depth + 1)
        return
    if not _known_function(name):
        issues.append(_issue(source, *_position(name_token), f"undeclared reference to '{name}' (in container '')"))
    for arg in args:
        _check(arg, source, variables, bound, references, issues, depth + 1)


# --- values in and out ---------------------------------------------------------------------------------------

_CEL_TYPES = (celtypes.BoolType, celtypes.IntType, celtypes.UintType, celtypes.DoubleType, celtypes.StringType,
              celtypes.BytesType, celtypes.ListType, celtypes.MapType, celtypes.TimestampType,
              celtypes.DurationType)


def to_cel(value: Any) -> Any:
    """Plain JSON-like Python -> celpy values; celpy values and library values pass through."""
    if value is None or isinstance(value, _CEL_TYPES):
        return value
    if isinstance(value, bool):
        return celtypes.BoolType(value)
    if isinstance(value, int):
        if -(2**63) <= value < 2**63:
            return make_int(value)
        return celtypes.UintType(value) if 0 <= value < 2**64 else celtypes.DoubleType(float(value))
    if isinstance(value, float):
        return celtypes.DoubleType(value)
    if isinstance(value, str):
        return celtypes.StringType(value)
    if isinstance(value, bytes):
        return celtypes.BytesType(value)
    if isinstance(value, Mapping):
        return celtypes.MapType({celtypes.StringType(k): to_cel(v) for k, v in value.items()})
    if isinstance(value, list | tuple):
        return celtypes.ListType([to_cel(v) for v in value])
    if isinstance(value, datetime.datetime):
        return celtypes.TimestampType(value)
    if isinstance(value, datetime.timedelta):
        return celtypes.DurationType(value)
    if type(value).__module__ == "machinery.cel_library":
        return value
    raise TypeError(f"cannot convert {type(value).__name__} to a CEL value")


def from_cel(value: Any) -> Any:
    """celpy values -> plain Python; kube library values (quantity, URL, IP...) become their strings."""
    if value is None:
        return None
    if isinstance(value, celtypes.BoolType):
        return bool(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, str):
        return str(value)
    if isinstance(value, bytes):
        return bytes(value)
    if isinstance(value, Mapping):
        return {from_cel(k): from_cel(v) for k, v in value.items()}
    if isinstance(value, list):
        return [from_cel(v) for v in value]
    if isinstance(value, celtypes.TimestampType):
        return datetime.datetime.combine(value.date(), value.timetz())
    if isinstance(value, celtypes.DurationType):
        return datetime.timedelta(days=value.days, seconds=value.seconds, microseconds=value.microseconds)
    if isinstance(value, Optional):
        return from_cel(value.wrapped) if value.present else None
    return str(value)


# --- evaluation ----------------------------------------------------------------------------------------------


def evaluate(program: Program, activation: Mapping[str, Any], *, cost_limit: int = PER_CALL_LIMIT,
             timeout: float = PER_CALL_TIMEOUT) -> Any:
    """Run `program` with the given variables; the result as plain Python.

    Raises EvaluationError (kube's wording) when the expression fails, CostLimitExceeded when it runs longer
    than `cost_limit` steps or `timeout` seconds.
    """
    return from_cel(evaluate_with_cost(program, activation, cost_limit=cost_limit, timeout=timeout)[0])


def evaluate_with_cost(program: Program, activation: Mapping[str, Any], *, cost_limit: int = PER_CALL_LIMIT,
                       timeout: float = PER_CALL_TIMEOUT) -> tuple[Any, int]:
    """Like `evaluate`, but returns the raw celpy result and the cost spent, for callers keeping a budget."""
    meter = _Meter(cost_limit, time.monotonic() + timeout)
    try:
        variables = {name: to_cel(value) for name, value in activation.items()}
        result = _Evaluator(program.ast, variables, meter, program.literals).visit(program.ast)
    except CELEvalError as err:
        result = err
    except RecursionError:
        raise EvaluationError("max recursion depth exceeded") from None
    if isinstance(result, CELEvalError):
        raise EvaluationError(error_message(result))
    return result, meter.spent


def error_message(err: CELEvalError) -> str:
    """cel-go's wording for a celpy error value."""
    message = str(err.args[0]) if err.args else "error"
    cause = err.args[1] if len(err.args) > 1 else None
    details = err.args[2] if len(err.args) > 2 and err.args[2] else ()
    if cause is LibraryError:
        return message
    if message.startswith("no such member in mapping"):
        return f"no such key: {message.partition(': ')[2].strip(chr(39))}"
    if cause is KeyError:
        if message.startswith("undeclared reference"):
            return message.partition(" (in activation")[0]
        key = details[0] if details else ""
        return f"no such key: {key}"
    if cause is IndexError:
        return "index out of bounds"
    if cause is ZeroDivisionError:
        return "division by zero"
    if cause is ValueError and "overflow" in message:
        return "integer overflow"
    if cause in (TypeError, AttributeError) or "no matching overload" in message or "no such overload" in message:
        return "no such overload"
    return message


class _Meter:
    """Counts interpreter steps and watches the clock."""

    __slots__ = ("deadline", "limit", "next_clock", "spent")

    def __init__(self, limit: int, deadline: float) -> None:
        self.limit, self.deadline, self.spent, self.next_clock = limit, deadline, 0, _CLOCK_EVERY

    def tick(self, steps: int = 1) -> None:
        self.spent += steps
        if self.spent > self.limit:
            raise CostLimitExceeded()
        if self.spent >= self.next_clock:
            self.next_clock = self.spent + _CLOCK_EVERY
            if time.monotonic() > self.deadline:
                raise CostLimitExceeded()


# One activation serves every evaluation: it only holds the function table, variables live on the evaluator.
_ACTIVATION = Activation(functions={**FUNCTIONS})
_FUNCTIONS: dict[str, Callable[..., Any]] = {**base_functions, **FUNCTIONS}
_OPERATORS = {
    "relation_lt": "_<_", "relation_le": "_<=_", "relation_gt": "_>_", "relation_ge": "_>=_", "relation_eq": "_==_",
    "relation_ne": "_!=_", "relation_in": "_in_", "addition_add": "_+_", "addition_sub": "_-_",
    "multiplication_mul": "_*_", "multiplication_div": "_/_", "multiplication_mod": "_%_", "unary_not": "!_",
    "unary_neg": "-_",
}
_CONVERSIONS = frozenset({"int", "uint", "double", "bool", "bytes", "duration", "timestamp", "string"})
_UNSET = object()


def _no_overload(*args: Any) -> CELEvalError:
    return CELEvalError("no such overload", TypeError, args)


def _true(value: Any) -> bool:
    return isinstance(value, celtypes.BoolType) and bool(value)


def _call(name: str, args: list[Any]) -> Any:
    """Apply a CEL function or operator, turning Python failures into CEL error values."""
    for arg in args:
        if isinstance(arg, CELEvalError):
            return arg
    function = _FUNCTIONS.get(name)
    if function is None:
        return library_error(f"undeclared reference to '{name}'")
    try:
        return function(*args)
    except ZeroDivisionError:
        return library_error("modulus by zero" if name == "_%_" else "division by zero")
    except OverflowError:
        return library_error("integer overflow")
    except ValueError:
        if name in _CONVERSIONS and args:
            return library_error(f"type conversion error from '{type_name(args[0])}' to '{name}'")
        return library_error("integer overflow")
    except (TypeError, AttributeError, KeyError) as err:
        return _no_overload(*err.args)


class _Evaluator(Evaluator):
    """celpy's interpreter with a step meter, variables in a plain dict, kube's macros and namespaces, and lean
    versions of the node methods every expression runs through (celpy's build typing generics per call)."""

    def __init__(self, ast: lark.Tree, variables: dict[str, Any], meter: _Meter,
                 literals: Mapping[int, Any]) -> None:
        super().__init__(ast, _ACTIVATION)
        self.variables = variables
        self.meter = meter
        self.literals = literals

    def _visit_tree(self, tree: lark.Tree) -> Any:
        self.meter.tick()
        return getattr(self, tree.data)(tree)

    def literal(self, tree: lark.Tree) -> Any:
        try:
            return self.literals[id(tree)]
        except KeyError:
            return super().literal(tree)

    def _value(self, tree: Any) -> Any:
        try:
            return self.visit(tree)
        except CELEvalError as err:
            return err

    def ident_value(self, name: str, root_scope: bool = False) -> Any:
        try:
            return self.variables[name]
        except KeyError:
            return super().ident_value(name, root_scope)

    # -- operators --

    def expr(self, tree: lark.Tree) -> Any:
        if len(tree.children) != 3:
            return self._value(tree.children[0])
        condition = self._value(tree.children[0])
        if isinstance(condition, CELEvalError):
            return condition
        if not isinstance(condition, celtypes.BoolType):
            return _no_overload(condition)
        return self._value(tree.children[1] if condition else tree.children[2])

    def conditionalor(self, tree: lark.Tree) -> Any:
        return self._logical(tree, absorbing=True)

    def conditionaland(self, tree: lark.Tree) -> Any:
        return self._logical(tree, absorbing=False)

    def _logical(self, tree: lark.Tree, *, absorbing: bool) -> Any:
        """`||` (absorbing true) and `&&` (absorbing false): either side decides, errors lose to a decision."""
        if len(tree.children) == 1:
            return self._value(tree.children[0])
        left = self._value(tree.children[0])
        if isinstance(left, celtypes.BoolType) and bool(left) == absorbing:
            return left
        right = self._value(tree.children[1])
        if isinstance(right, celtypes.BoolType) and bool(right) == absorbing:
            return right
        for side in (left, right):
            if isinstance(side, CELEvalError):
                return side
            if not isinstance(side, celtypes.BoolType):
                return _no_overload(left, right)
        return celtypes.BoolType(not absorbing)

    def _binary(self, tree: lark.Tree) -> Any:
        if len(tree.children) == 1:
            return self._value(tree.children[0])
        operator, right = cast(lark.Tree, tree.children[0]), tree.children[1]
        return _call(_OPERATORS[operator.data], [self._value(operator.children[0]), self._value(right)])

    relation = addition = multiplication = _binary

    def unary(self, tree: lark.Tree) -> Any:
        if len(tree.children) == 1:
            return self._value(tree.children[0])
        operator = cast(lark.Tree, tree.children[0])
        return _call(_OPERATORS[operator.data], [self._value(tree.children[1])])

    # -- selection, indexing, calls --

    def member_dot(self, tree: lark.Tree) -> Any:
        target, name = self._value(tree.children[0]), str(tree.children[1])
        if isinstance(target, CELEvalError):
            return target
        if isinstance(target, Mapping):
            try:
                return target[name]
            except KeyError:
                return library_error(f"no such key: {name}")
        return _no_overload(target)

    def member_index(self, tree: lark.Tree) -> Any:
        target, index = self._value(tree.children[0]), self._value(tree.children[1])
        for value in (target, index):
            if isinstance(value, CELEvalError):
                return value
        if isinstance(target, list):
            if not is_number(index) or float(index) != int(index):
                return _no_overload(target, index)
            if not 0 <= int(index) < len(target):
                return library_error(f"index out of bounds: {int(index)}")
            return target[int(index)]
        if isinstance(target, Mapping):
            for key in target:
                if equal(key, index):
                    return target[key]
            return library_error(f"no such key: {format_value(index)}")
        return _no_overload(target, index)

    def primary(self, tree: lark.Tree) -> Any:
        child = cast(lark.Tree, tree.children[0])
        if child.data == "ident":
            try:
                return self.variables[str(child.children[0])]
            except KeyError:
                pass
        elif child.data == "ident_arg":
            name = str(child.children[0])
            args: list[Any] = list(cast(lark.Tree, child.children[1]).children) if len(child.children) > 1 else []
            if name == "dyn" and len(args) == 1:
                return self._value(args[0])
            if name != "has":
                return _call(name, [self._value(a) for a in args])
        return super().primary(tree)

    def member_dot_arg(self, tree: lark.Tree) -> Any:
        target, name = tree.children[0], str(tree.children[1])
        args: list[Any] = list(cast(lark.Tree, tree.children[2]).children) if len(tree.children) > 2 else []
        namespace = _ident(target)
        if namespace in _NAMESPACES and namespace not in self.variables:
            if namespace == "cel" and name == "bind":
                return self._with(cast(str, _ident(args[0])), self._value(args[1]), args[2])
            return _call(f"{namespace}.{name}", [self._value(a) for a in args])
        if name in _MACROS and args:
            return self._comprehension(name, target, args)
        return _call(name, [self._value(target), *(self._value(a) for a in args)])

    # -- comprehensions --

    def _with(self, var: str, value: Any, body: Any) -> Any:
        saved = self.variables.get(var, _UNSET)
        self.variables[var] = value
        try:
            return self._value(body)
        finally:
            if saved is _UNSET:
                del self.variables[var]
            else:
                self.variables[var] = saved

    def _bind2(self, first: str, second: str | None, pair: tuple[Any, Any], body: Any) -> Any:
        if second is None:
            return self._with(first, pair[1], body)
        saved = self.variables.get(second, _UNSET)
        self.variables[second] = pair[1]
        try:
            return self._with(first, pair[0], body)
        finally:
            if saved is _UNSET:
                del self.variables[second]
            else:
                self.variables[second] = saved

    def _comprehension(self, name: str, target: Any, args: list[Any]) -> Any:
        collection = self._value(target)
        if isinstance(collection, CELEvalError):
            return collection
        two_vars = len(args) == 3 and name != "map"
        first = cast(str, _ident(args[0]))
        second = _ident(args[1]) if two_vars else None
        if isinstance(collection, Mapping):
            pairs = list(collection.items()) if two_vars else [(k, k) for k in collection]
        elif isinstance(collection, list):
            pairs = [(celtypes.IntType(i), v) for i, v in enumerate(collection)]
        else:
            return _no_overload(collection)
        if name == "map":
            return self._map(first, pairs, args)
        if name == "filter":
            return self._filter(first, pairs, args[-1], keys=isinstance(collection, Mapping))
        return self._quantifier(name, first, second, pairs, args[-1])

    def _map(self, var: str, pairs: list[tuple[Any, Any]], args: list[Any]) -> Any:
        result = []
        for pair in pairs:
            self.meter.tick()
            if len(args) == 3:
                keep = self._bind2(var, None, pair, args[1])
                if isinstance(keep, CELEvalError):
                    return keep
                if not _true(keep):
                    continue
            value = self._bind2(var, None, pair, args[-1])
            if isinstance(value, CELEvalError):
                return value
            result.append(value)
        return celtypes.ListType(result)

    def _filter(self, var: str, pairs: list[tuple[Any, Any]], body: Any, *, keys: bool) -> Any:
        kept = []
        for pair in pairs:
            self.meter.tick()
            keep = self._bind2(var, None, pair, body)
            if isinstance(keep, CELEvalError):
                return keep
            if _true(keep):
                kept.append(pair[0] if keys else pair[1])
        return celtypes.ListType(kept)

    def _quantifier(self, name: str, first: str, second: str | None, pairs: list[tuple[Any, Any]],
                    body: Any) -> Any:
        """all / exists / existsOne: a decisive element wins over errors met elsewhere, as in cel-go."""
        error: Any = None
        count = 0
        for pair in pairs:
            self.meter.tick()
            outcome = self._bind2(first, second, pair, body)
            if not isinstance(outcome, CELEvalError | celtypes.BoolType):
                outcome = _no_overload(outcome)
            if isinstance(outcome, CELEvalError):
                if name in ("exists_one", "existsOne"):
                    return outcome
                error = error or outcome
            elif name == "all" and not outcome:
                return celtypes.BoolType(False)
            elif name == "exists" and outcome:
                return celtypes.BoolType(True)
            elif outcome:
                count += 1
        if error is not None:
            return error
        if name == "all":
            return celtypes.BoolType(True)
        if name == "exists":
            return celtypes.BoolType(False)
        return celtypes.BoolType(count == 1)
