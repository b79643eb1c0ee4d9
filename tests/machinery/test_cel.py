"""The CEL environment: kube's library functions, CEL semantics, compile errors, and the cost bound."""

from __future__ import annotations

import datetime
import time
from typing import Any

import pytest

from machinery.cel import (
    CompileError,
    CostLimitExceeded,
    EvaluationError,
    compile_rule,
    evaluate,
    evaluate_with_cost,
    from_cel,
    to_cel,
)

SELF = {
    "replicas": 3,
    "maxReplicas": 5,
    "name": "Hello-World",
    "ports": [80, 443, 8080],
    "labels": {"app": "web", "tier": "front"},
    "ratio": 0.5,
    "memory": "512Mi",
}


def run(expression: str, self: Any = SELF, **variables: Any) -> Any:
    return evaluate(compile_rule(expression, variables=None), {"self": self, **variables})


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        # comparisons and logic
        ("self.replicas <= self.maxReplicas", True),
        ("self.replicas > self.maxReplicas", False),
        ("self.replicas < self.ratio * 10.0", True),  # int against double: CrossTypeNumericComparisons
        ("self.replicas == 3.0", True),
        ("1 == 'a'", False),  # heterogeneous equality is false, not an error
        ("self.replicas in [1, 2, 3]", True),
        ("'app' in self.labels", True),
        ("self.replicas > 1 ? 'many' : 'one'", "many"),
        ("!(self.replicas == 3)", False),
        ("false || (1 / 0 == 1) || true", True),  # an error loses to a deciding operand, as in cel-go
        ("true && (1 / 0 == 1) && false", False),
        # has() and field access
        ("has(self.name)", True),
        ("has(self.missing)", False),
        ("has(self.labels.app)", True),
        ("self.labels['tier']", "front"),
        # macros
        ("self.ports.all(p, p > 0)", True),
        ("self.ports.exists(p, p == 443)", True),
        ("self.ports.exists_one(p, p > 1000)", True),
        ("self.ports.existsOne(p, p > 10)", False),
        ("self.ports.map(p, p * 2)", [160, 886, 16160]),
        ("self.ports.map(p, p > 100, p + 1)", [444, 8081]),
        ("self.ports.filter(p, p < 1000)", [80, 443]),
        ("self.labels.all(k, k.size() > 2)", True),
        ("self.labels.exists(k, v, v == 'web')", True),
        ("self.ports.all(i, p, i < 3 && p > 0)", True),
        ("cel.bind(twice, self.replicas * 2, twice + twice)", 12),
        ("size(self.ports) == 3 && self.name.size() == 11", True),
        # arithmetic, as cel-go does it
        ("-7 / 2", -3),
        ("-7 % 2", -1),
        ("self.ratio / 0.0 > 1e308", True),
        ("'a' + 'b'", "ab"),
        ("[1] + [2]", [1, 2]),
        ("duration('1h') > duration('59m')", True),
        ("timestamp('2024-01-01T00:00:00Z') + duration('1h') == timestamp('2024-01-01T01:00:00Z')", True),
        ("type(self.replicas) == int", True),
        ("int('42') + 1", 43),
        ("string(true)", "true"),
        ("string(1.5)", "1.5"),
        ("dyn(self.replicas) == 3", True),
        # strings (cel-go ext strings)
        ("self.name.lowerAscii()", "hello-world"),
        ("self.name.upperAscii()", "HELLO-WORLD"),
        ("'  padded  '.trim()", "padded"),
        ("self.name.split('-')", ["Hello", "World"]),
        ("'a,b,c'.split(',', 2)", ["a", "b,c"]),
        ("['a', 'b'].join('/')", "a/b"),
        ("['a', 'b'].join()", "ab"),
        ("self.name.replace('l', 'L')", "HeLLo-WorLd"),
        ("self.name.replace('l', 'L', 1)", "HeLlo-World"),
        ("self.name.indexOf('l')", 2),
        ("self.name.indexOf('l', 4)", 9),
        ("self.name.lastIndexOf('l')", 9),
        ("self.name.substring(6)", "World"),
        ("self.name.substring(0, 5)", "Hello"),
        ("self.name.charAt(1)", "e"),
        ("'abc'.reverse()", "cba"),
        ("'%s has %d ports at %.2f'.format([self.name, 3, 0.5])", "Hello-World has 3 ports at 0.50"),
        ("'%x %o %b %%'.format([255, 8, 5])", "ff 10 101 %"),
        ("strings.quote('a\"b')", '"a\\"b"'),
        ("self.name.startsWith('Hello') && self.name.endsWith('World') && self.name.contains('-')", True),
        # lists (kube lists library)
        ("self.ports.isSorted()", True),
        ("[3, 1].isSorted()", False),
        ("self.ports.sum()", 8603),
        ("[].sum()", 0),
        ("[1.5, 2.5].sum()", 4.0),
        ("self.ports.min()", 80),
        ("self.ports.max()", 8080),
        ("['b', 'a'].min()", "a"),
        ("self.ports.indexOf(443)", 1),
        ("[1, 2, 2].lastIndexOf(2)", 2),
        ("self.ports.indexOf(22)", -1),
        ("[1, 2].includes(2)", True),
        ("[3, 1, 2].sort()", [1, 2, 3]),
        ("[1, 1, 2].distinct()", [1, 2]),
        ("[[1], [2, 3]].flatten()", [1, 2, 3]),
        ("[1, 2, 3, 4].slice(1, 3)", [2, 3]),
        ("lists.range(3)", [0, 1, 2]),
        ("sets.contains([1, 2, 3], [2, 3])", True),
        ("sets.equivalent([1, 2], [2, 1])", True),
        ("sets.intersects([1, 2], [3])", False),
        # regex (RE2)
        ("self.name.matches('^[A-Z][a-z]+-')", True),
        ("self.name.find('[A-Z][a-z]+')", "Hello"),
        ("self.name.find('[0-9]+')", ""),
        ("self.name.findAll('[A-Z]')", ["H", "W"]),
        ("'a1b2c3'.findAll('[0-9]', 2)", ["1", "2"]),
        # quantity
        ("quantity(self.memory).isLessThan(quantity('1Gi'))", True),
        ("quantity('1Gi').isGreaterThan(quantity('1G'))", True),
        ("quantity('200M').compareTo(quantity('0.2G'))", 0),
        ("quantity('1k') == quantity('1000')", True),
        ("quantity('50k').asInteger()", 50000),
        ("quantity('1.5').asApproximateFloat()", 1.5),
        ("quantity('1m').isInteger()", False),
        ("quantity('50k').add(20) == quantity('50020')", True),
        ("quantity('50k').add(quantity('20k')) == quantity('70k')", True),
        ("quantity('50k').sub(20000) == quantity('30k')", True),
        ("quantity('-5').sign()", -1),
        ("quantity('2').mul(3) == quantity('6')", True),
        ("isQuantity('1.3Gi')", True),
        ("isQuantity('200K')", False),
        # URLs
        ("url('https://user:pw@example.com:8443/p?k=v#frag').getScheme()", "https"),
        ("url('https://example.com:8443/').getHost()", "example.com:8443"),
        ("url('https://[::1]:80/').getHostname()", "::1"),
        ("url('https://example.com:8443/').getPort()", "8443"),
        ("url('https://example.com/').getPort()", ""),
        ("url('https://example.com/path with spaces/').getEscapedPath()", "/path%20with%20spaces/"),
        ("url('https://example.com/?k1=a&k2=b&k2=c').getQuery()", {"k1": ["a"], "k2": ["b", "c"]}),
        ("url('/absolute-path').getHost()", ""),
        ("isURL('../relative-path')", False),
        ("isURL('https://a:b:c/')", False),
        # IP and CIDR
        ("ip('10.0.0.1').family()", 4),
        ("ip('::1').family() == 6 && ip('::1').isLoopback()", True),
        ("ip('169.254.169.254').isLinkLocalUnicast()", True),
        ("ip('ff02::1').isLinkLocalMulticast()", True),
        ("ip('0.0.0.0').isUnspecified()", True),
        ("ip('192.168.0.1').isGlobalUnicast() && !ip('255.255.255.255').isGlobalUnicast()", True),
        ("isIP('127.0.0.256') || isIP('01.2.3.4') || isIP('fe80::1%eth0') || isIP('::ffff:1.2.3.4')", False),
        ("ip.isCanonical('2001:db8::abcd') && !ip.isCanonical('2001:DB8::ABCD')", True),
        ("string(ip('2001:db8:0:0:0:0:0:1'))", "2001:db8::1"),
        ("cidr('10.0.0.0/8').containsIP(ip('10.1.2.3'))", True),
        ("cidr('10.0.0.0/8').containsIP('11.0.0.1')", False),
        ("cidr('10.0.0.0/8').containsCIDR('10.1.0.0/16')", True),
        ("string(cidr('192.168.1.5/24').masked())", "192.168.1.0/24"),
        ("string(cidr('192.168.1.5/24').ip())", "192.168.1.5"),
        ("cidr('::1/128').prefixLength()", 128),
        ("isCIDR('10.0.0.0')", False),
        # semver
        ("semver('1.2.3-alpha').isLessThan(semver('1.2.3'))", True),
        ("semver('v1.2', true).minor()", 2),
        ("semver('2.0.0').compareTo(semver('10.0.0'))", -1),
        ("isSemver('1.2')", False),
        # optionals, as optionalOldSelf needs them
        ("optional.of(1).hasValue() && !optional.none().hasValue()", True),
        ("optional.none().orValue(7)", 7),
    ],
)
def test_each_supported_feature_evaluates_as_in_kube(expression: str, expected: Any) -> None:
    result = run(expression)
    assert result == expected
    assert type(result) is type(expected)


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("self.missing == 1", "no such key: missing"),
        ("self.labels['nope']", "no such key: nope"),
        ("self.ports[7]", "index out of bounds: 7"),
        ("1 / 0 == 1", "division by zero"),
        ("1 % 0 == 1", "modulus by zero"),
        ("9223372036854775807 + 1 > 0", "integer overflow"),
        ("'a' + 1 == 'a1'", "no such overload"),
        ("self.name.lowerAscii(1)", "no such overload"),
        ("[].min()", "min called on empty list"),
        ("'abc'.substring(5)", "index out of range: 5"),
        ("quantity('200K')", "quantities must match the regular expression "
                             "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"),
        ("quantity('1.5').asInteger()", "cannot convert value to integer"),
        ("url('../x')", 'URL parse error during conversion from string: parse "../x": invalid URI for request'),
        ("ip('::ffff:1.2.3.4')", 'IPv4-mapped IPv6 address "::ffff:1.2.3.4" is not allowed'),
        ("self.ports.all(p, p / 0 > 1)", "division by zero"),
        ("self.ports.exists_one(p, p / 0 > 1)", "division by zero"),
        ("self.ports.map(p, self.nope)", "no such key: nope"),
    ],
)
def test_evaluation_errors_carry_cel_go_wording(expression: str, message: str) -> None:
    with pytest.raises(EvaluationError) as caught:
        run(expression)
    assert str(caught.value) == message


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("self.replicas +", "compilation failed: ERROR: <input>:1:16: Syntax error: mismatched input '<EOF>'\n"
                            " | self.replicas +\n"
                            " | ...............^"),
        ("1 +* 2", "compilation failed: ERROR: <input>:1:4: Syntax error: mismatched input '*'\n | 1 +* 2\n | ...^"),
        ("'a' #", "compilation failed: ERROR: <input>:1:5: Syntax error: token recognition error at: '#'\n"
                  " | 'a' #\n | ....^"),
        ("fakeFunction('abc') == 'ABC'", "compilation failed: ERROR: <input>:1:1: undeclared reference to "
                                         "'fakeFunction' (in container '')\n | fakeFunction('abc') == 'ABC'\n | ^"),
        ("self.name.shout()", "compilation failed: ERROR: <input>:1:11: undeclared reference to 'shout' "
                              "(in container '')\n | self.name.shout()\n | ..........^"),
        ("object.spec == 1", "compilation failed: ERROR: <input>:1:1: undeclared reference to 'object' "
                             "(in container '')\n | object.spec == 1\n | ^"),
        ("has(self)", "compilation failed: ERROR: <input>:1:1: invalid argument to has() macro\n | has(self)\n | ^"),
        ("self.ports.all(p + 1, true)", "compilation failed: ERROR: <input>:1:12: argument must be a simple name\n"
                                        " | self.ports.all(p + 1, true)\n | ...........^"),
    ],
)
def test_compile_errors_read_like_kube(expression: str, message: str) -> None:
    with pytest.raises(CompileError) as caught:
        compile_rule(expression)
    assert str(caught.value) == message


def test_macro_variables_are_declared_inside_their_macro_only() -> None:
    assert compile_rule("self.ports.all(p, p > 0)").references == frozenset({"self"})
    with pytest.raises(CompileError, match="undeclared reference to 'p'"):
        compile_rule("self.ports.all(p, p > 0) && p > 0")


def test_transition_rules_are_recognised_by_reading_old_self() -> None:
    assert compile_rule("self == oldSelf").uses_old_self
    assert not compile_rule("self.oldSelf == 1").uses_old_self  # a field named oldSelf is not the variable


def test_admission_variables_are_declared_by_the_caller() -> None:
    program = compile_rule("object.metadata.name == request.name", variables={"object", "request"})
    assert evaluate(program, {"object": {"metadata": {"name": "a"}}, "request": {"name": "a"}}) is True


def test_compiled_programs_are_cached_by_expression() -> None:
    assert compile_rule("self.replicas > 1") is compile_rule("self.replicas > 1")


def test_nesting_beyond_the_limit_is_a_compile_error_not_a_crash() -> None:
    assert run("(" * 40 + "1" + ")" * 40 + " == 1") is True
    with pytest.raises(CompileError, match="max recursion depth exceeded"):
        compile_rule("(" * 200 + "1" + ")" * 200)


def test_a_runaway_rule_is_cut_off_by_the_cost_limit() -> None:
    program = compile_rule("self.all(x, self.all(y, self.all(z, x + y + z >= 0)))")
    started = time.monotonic()
    with pytest.raises(CostLimitExceeded, match="operation cancelled: actual cost limit exceeded"):
        evaluate(program, {"self": list(range(1000))})  # 10^9 iterations uncut
    assert time.monotonic() - started < 5


def test_the_wall_clock_also_bounds_a_call() -> None:
    program = compile_rule("self.all(x, self.all(y, x != y || x == y))")
    started = time.monotonic()
    with pytest.raises(CostLimitExceeded):
        evaluate(program, {"self": list(range(1000))}, cost_limit=10**12, timeout=0.2)
    assert time.monotonic() - started < 2


def test_the_cost_spent_is_reported_for_budgets() -> None:
    program = compile_rule("self.all(x, x > 0)")
    _, small = evaluate_with_cost(program, {"self": [1]})
    _, large = evaluate_with_cost(program, {"self": [1] * 100})
    assert 0 < small < large


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"a": [1, 2.5, "x", True, None]}, {"a": [1, 2.5, "x", True, None]}),
        (b"raw", b"raw"),
        (datetime.datetime(2024, 1, 1, tzinfo=datetime.UTC), datetime.datetime(2024, 1, 1, tzinfo=datetime.UTC)),
        (datetime.timedelta(minutes=90), datetime.timedelta(minutes=90)),
        (2**63, 2**63),  # beyond int64: a uint
    ],
)
def test_plain_values_round_trip_through_cel(value: Any, expected: Any) -> None:
    assert from_cel(to_cel(value)) == expected


def test_library_values_come_back_as_their_strings() -> None:
    assert run("quantity('1Gi')") == "1Gi"
    assert run("ip('::1')") == "::1"
