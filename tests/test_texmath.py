"""TeX in stored text, friendly and hostile: MathML that keeps its source, or the source itself,
never markup from the text; Unicode without dollars for mails and feeds."""

from __future__ import annotations

import time

import pytest
from lxml import etree

from dailypapers.texmath import ELEMENTS, MATHML, MAX_FORMULAS, mathml, plain


def formulas(html: str) -> list[etree._Element]:
    """The <math> elements of `html`, which must be well-formed next to its escaped prose."""
    root = etree.fromstring(f"<p>{html}</p>".encode())
    return [element for element in root if element.tag == f"{{{MATHML}}}math"]


def test_a_formula_becomes_mathml_with_its_source_for_copying() -> None:
    html = str(mathml(r"Sorting in $\mathcal{O}(n \log n)$ time & space"))
    (math,) = formulas(html)
    assert math.get("display") == "inline"
    annotation = math.find(f".//{{{MATHML}}}annotation")
    assert annotation.get("encoding") == "application/x-tex"
    assert annotation.text == r"\mathcal{O}(n \log n)"
    assert "𝒪" in "".join(math.itertext())
    assert html.startswith("Sorting in <math") and html.endswith("</math> time &amp; space")


def test_display_math_and_neighbouring_formulas() -> None:
    (display,) = formulas(str(mathml(r"$$\sum_i x_i$$")))
    assert display.get("display") == "block"
    assert len(formulas(str(mathml("$a$$b$ and $c$")))) == 3


@pytest.mark.parametrize(
    "text",
    [
        r"$\text{<b>}$ bold?",
        r"$\text{<script>alert(1)</script>}$",
        r"$\href{javascript:alert(1)}{x}$",
        r"$\url{javascript:alert(1)}$",
        r"$\unknowncommand{x}$",
        r"$\style{color:red}{x}$",
        r"$\frac{a}{b$",
        r"$}{$",
        r"$\left( x$",
        r"$\text{a & b}$",
    ],
)
def test_hostile_or_malformed_tex_shows_as_escaped_source(text: str) -> None:
    html = str(mathml(text))
    assert "<math" not in html and "<script" not in html and "<b>" not in html
    assert "href=" not in html
    assert html == str(mathml(text))  # the same answer each time (cached or not)
    assert etree.fromstring(f"<p>{html}</p>".encode()).xpath("string()") == text


def test_tex_that_looks_like_markup_inside_a_formula_stays_text() -> None:
    html = str(mathml(r"$x^{<img src=x onerror=alert(1)>}$"))
    for element in formulas(html)[0].iter():
        assert element.tag.rpartition("}")[2] in ELEMENTS and "onerror" not in element.attrib
    assert "<img" not in html


@pytest.mark.parametrize(
    ("text", "prose"),
    [
        ("It costs $5 and more.", "It costs $5 and more."),
        ("Between $5 and $10 a day", "Between $5 and $10 a day"),  # no formula "5 and "
        (r"Prices in \$ and \$\$", "Prices in $ and $$"),
        ("A lone $ sign", "A lone $ sign"),
        ("$ spaced $", "$ spaced $"),
        ("$$", "$$"),
    ],
)
def test_dollars_in_prose_stay_prose(text: str, prose: str) -> None:
    assert str(mathml(text)) == prose.replace("&", "&amp;")
    assert plain(text) == prose


def test_five_kilobytes_of_dollars_and_thousands_of_formulas_are_quick() -> None:
    started = time.monotonic()
    assert str(mathml("$" * 5000)) == "$" * 5000
    assert plain("$" * 5000) == "$" * 5000
    many = " ".join(f"$x_{{{n}}}$" for n in range(2000))
    assert len(formulas(str(mathml(many)))) == MAX_FORMULAS  # the rest show as source
    deep = "$" + "{" * 900 + "x" + "}" * 900 + "$"
    assert str(mathml(deep)) == deep
    long = "$" + "x+" * 1000 + "x$"  # past MAX_TEX: a stray pair of dollars, not math
    assert str(mathml(long)) == long
    assert time.monotonic() - started < 5


@pytest.mark.parametrize(
    ("text", "unicode"),
    [
        (r"Attention in $\mathcal{O}(n^2)$ time", "Attention in 𝒪(n^2) time"),
        (r"$\alpha$-stable and $\beta$-mixing", "α-stable and β-mixing"),
        (r"Over $\mathbb{R}^{n\times n}$", "Over ℝ^n×n"),
        (r"$$\sum_i x_i$$", "∑_i x_i"),
        (r"broken $\frac{a}{b$ here", r"broken \frac{a}{b here"),  # the TeX, without dollars
    ],
)
def test_plain_text_for_mails_and_feeds_has_no_raw_dollars(text: str, unicode: str) -> None:
    assert plain(text) == unicode
    assert "$" not in plain(text)


def test_empty_text() -> None:
    assert (str(mathml(None)), str(mathml("")), plain(None), plain("")) == ("", "", "", "")
