"""Templates cannot make a value without bound, even one they never write out.

The output bound counts what a render writes; these tests are about values a template makes
and keeps (in a namespace, a macro's argument, a {% set %} block) or makes in one call
(``center(10**9)``). Each build runs in its own process under an address-space limit, so a
bound that is missing shows as a MemoryError or a killed process, which fails the test,
instead of taking the machine's memory.
"""

from __future__ import annotations

import resource
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import HANG_SECONDS, NOW, copy_example_project
from nieuwsbrief.templating import MAX_TEMPLATE_OUTPUT

# Far more than a build needs (a few hundred MB), far less than a value of 10**9 characters.
ADDRESS_SPACE = 1_500_000_000
TEMPLATE = "digest.txt.j2"


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE, ADDRESS_SPACE))


def build_with(body: str, where: Path) -> tuple[int, list[str], Path]:
    """Build the example project with ``body`` as its text digest template, in a subprocess.

    Returns the exit code, the non-empty lines of its output and the output folder.
    """
    project = where / "project"
    if not project.exists():
        copy_example_project(project)
    (project / "templates" / TEMPLATE).write_text(body + "\n", "utf-8")
    out = where / "out"
    result = subprocess.run(
        [sys.executable, "-m", "nieuwsbrief", "build", "-p", project, "-o", out, "--now", NOW],
        capture_output=True,
        text=True,
        preexec_fn=_limit_memory,
        timeout=HANG_SECONDS,  # a hang guard, not a speed claim
        check=False,
    )
    lines = [line for line in (result.stdout + result.stderr).splitlines() if line.strip()]
    return result.returncode, lines, out


def assert_bounded(code: int, lines: list[str], out: Path) -> None:
    """A build either wrote a digest within the bounds or failed in one line naming the file."""
    if code == 0:
        text = (out / "digests" / "2025-W48" / "digest.txt").read_text("utf-8")
        assert len(text) <= MAX_TEMPLATE_OUTPUT
        return
    assert code == 1, (code, lines)
    assert len(lines) == 1, lines
    assert TEMPLATE in lines[0], lines[0]
    assert "MemoryError" not in lines[0] and "Traceback" not in lines[0], lines[0]
    assert not out.exists() or not any(out.iterdir()), sorted(out.rglob("*"))


BOMBS = [
    # doubling a kept value: 40 loop steps, 2**40 characters
    '{% set ns = namespace(x="ab") %}{% for i in range(40) %}'
    "{% set ns.x = ns.x ~ ns.x %}{% endfor %}",
    '{% set ns = namespace(x="ab") %}{% for i in range(40) %}'
    "{% set ns.x = ns.x + ns.x %}{% endfor %}",
    "{% set ns = namespace(l=[1]) %}{% for i in range(30) %}"
    "{% set ns.l = ns.l + ns.l %}{% endfor %}",
    '{% macro d(s, n) %}{{ d(s ~ s, n - 1) if n else s|length }}{% endmacro %}{{ d("ab", 40) }}',
    "{% macro d(s, n) %}{% set t %}{{ s }}{{ s }}{% endset %}"
    '{{ d(t, n - 1) if n else t|length }}{% endmacro %}{{ d("ab", 40) }}',
    "{% set ns = namespace(x=3) %}{% for i in range(40) %}{% set ns.x = ns.x * ns.x %}{% endfor %}",
    # one call with a huge width or count
    '{{ "x".center(10**9) }}',
    '{{ "x"|center(1000000000) }}',
    '{{ "x".ljust(10**9) }}',
    '{{ "x".rjust(10**9) }}',
    '{{ "x".zfill(10**9) }}',
    '{{ "%0999999999d"|format(1) }}',
    '{{ "%0999999999d" % 1 }}',
    '{{ "{:>999999999}".format(1) }}',
    '{{ "{:{}}".format(1, 10**9) }}',
    '{{ "{0}{0}{0}{0}{0}{0}{0}{0}{0}{0}{0}{0}".format("a" * 999999) }}',
    '{{ ("%s" * 1000) % (("a" * 999999,) * 1000) }}',
    '{{ "x"|indent(10**9) }}',
    '{{ ("a\\n" * 500000)|indent(100) }}',
    '{{ ("a " * 400000)|wordwrap(1, wrapstring="----------") }}',
    '{{ (["a" * 999999] * 1000)|join }}',
    '{{ "".join(["a" * 999999] * 1000) }}',
    '{{ ("a" * 999999).replace("a", "aa") }}',
    '{{ ("a" * 999999)|replace("a", "aa") }}',
    '{{ ("\\t" * 999999).expandtabs(1000) }}',
    '{{ "a"|tojson(10**9) }}',
    '{{ ["a" * 999999] * 1000 }}',
    '{{ (["a" * 999999] * 1000)|string|length }}',
    '{{ (["a" * 999999] * 1000)|upper|length }}',
    "{{ ([[1] * 1000000] * 1000)|sum(start=[])|length }}",
    "{{ [1]|batch(10**9, 0)|list|length }}",
    # found by a second outside probe: a width given as text, and % on bytes
    '{{ ("{0:>{1}}".format("x", "2900000000")) | length }}',
    '{{ ("%2900000000d".encode() % 1) | length }}',
]


@pytest.mark.parametrize("body", BOMBS)
def test_a_template_that_makes_a_huge_value_is_a_one_line_error(body: str, tmp_path: Path) -> None:
    code, lines, out = build_with(body, tmp_path)
    assert code == 1, (code, lines)
    assert_bounded(code, lines, out)
    assert "longer than" in lines[0] or "too big" in lines[0] or "more than" in lines[0]


def test_values_under_the_bounds_still_render(tmp_path: Path) -> None:
    body = (
        '{% set ns = namespace(x="ab", l=[1]) %}{% for i in range(18) %}'
        "{% set ns.x = ns.x ~ ns.x %}{% set ns.l = ns.l + ns.l %}{% endfor %}"
        '{{ ns.x|length }} {{ ns.l|length }} {{ "x".center(999999)|length }} '
        '{{ "%05d"|format(42) }} {{ "{:>6}".format(7) }} {{ ("a\\n" * 3)|indent(2) }}'
        '{{ ["a", "b"]|join("-") }} {{ [[1], [2, 3]]|sum(start=[]) }}'
    )
    code, lines, out = build_with(body, tmp_path)
    assert code == 0, lines
    text = (out / "digests" / "2025-W48" / "digest.txt").read_text("utf-8")
    assert text.startswith("524288 262144 999999 00042      7 a\n  a\n  a\na-b [1, 2, 3]"), text


# Pieces a template author can put together: literals (strings, numbers up to 10**12), the
# operators, filters and methods that make longer values, and a namespace value changed in a
# loop, which is how a value doubles without writing anything.
NUMBERS = st.one_of(
    st.integers(0, 64), st.sampled_from([999_999, 10**6, 10**7, 10**9]), st.integers(0, 10**12)
)
STRINGS = st.sampled_from(['"ab"', '"x"', '"a\\n"', '"\\t"', '"%05d"', '"%0999999999d"', '"{}"'])


def _grow(e: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    n = NUMBERS.map(str)
    return st.one_of(
        st.tuples(e, e).map(lambda p: f"({p[0]} ~ {p[1]})"),
        st.tuples(e, e).map(lambda p: f"({p[0]} + {p[1]})"),
        st.tuples(e, n).map(lambda p: f"({p[0]} * {p[1]})"),
        st.tuples(e, n).map(lambda p: f"({p[0]} % {p[1]})"),
        st.tuples(e, n).map(lambda p: f"({p[0]} ** {p[1]})"),
        st.tuples(e, n).map(lambda p: f"({p[0]}|center({p[1]}))"),
        st.tuples(e, n).map(lambda p: f"({p[0]}|indent({p[1]}))"),
        st.tuples(e, n).map(lambda p: f"({p[0]}|wordwrap({p[1]} or 1, wrapstring={p[0]}))"),
        st.tuples(e, n).map(lambda p: f"({p[0]}|format({p[1]}))"),
        st.tuples(e, n).map(lambda p: f"({p[0]}.format({p[1]}))"),
        st.tuples(e, n).map(lambda p: f"({p[0]}.ljust({p[1]}))"),
        st.tuples(e, n).map(lambda p: f"({p[0]}.zfill({p[1]}))"),
        st.tuples(e, n).map(lambda p: f"({p[0]}.expandtabs({p[1]}))"),
        st.tuples(e, e).map(lambda p: f'({p[0]}.replace("a", {p[1]}))'),
        st.tuples(e, n, e).map(lambda p: f"(([{p[0]}] * {p[1]})|join({p[2]}))"),
        st.tuples(e, n).map(lambda p: f"(([{p[0]}] * {p[1]})|string)"),
        e.map(lambda x: f"([{x}, {x}])"),
    )


EXPRESSIONS = st.recursive(
    st.one_of(STRINGS, NUMBERS.map(str), st.just("ns.x"), st.just("ns.l")), _grow, max_leaves=6
)


@st.composite
def templates(draw: st.DrawFn) -> str:
    start = draw(st.one_of(STRINGS, st.just("[1]")))
    steps = draw(st.integers(0, 40))
    change = draw(EXPRESSIONS)
    keep = draw(EXPRESSIONS)
    shown = draw(EXPRESSIONS)
    write = draw(st.sampled_from(["{{ (%s)|length }}", "{{ %s }}"]))
    return (
        f"{{% set ns = namespace(x={start}, l=[{start}]) %}}"
        f"{{% for i in range({steps}) %}}"
        f"{{% set ns.x = {change} %}}{{% set ns.l = {keep} %}}"
        "{% endfor %}" + write % shown
    )


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(body=templates())
def test_a_composed_template_is_built_within_bounds_or_refused_in_one_line(
    body: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    code, lines, out = build_with(body, tmp_path_factory.mktemp("composed"))
    assert_bounded(code, lines, out)
