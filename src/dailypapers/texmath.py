"""TeX in titles and abstracts (`$\\mathcal{O}(n \\log n)$`): MathML for pages, readable Unicode
for mails and feeds. A formula that does not convert, converts to anything outside MathML's
presentation elements or leaves a command unknown, is shown as its source: stored text never
becomes markup or breaks a page.

Dollars follow Pandoc's rule for inline math, so that prices in prose stay prose: the opening
`$` has a non-space right after it, the closing one a non-space right before it and no digit
right after it ("costs $5 and $10" has no formula). `\\$` is a literal dollar.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache

from latex2mathml.converter import convert
from lxml import etree
from markupsafe import Markup, escape
from pylatexenc.latex2text import LatexNodes2Text

# $$…$$ display and $…$ inline; a backslash before a dollar makes it a literal dollar.
FORMULA = re.compile(
    r"(?<!\\)(?:\$\$(?P<display>[^$]+?)(?<!\\)\$\$"
    r"|\$(?P<inline>[^\s$](?:[^$]*?[^\s$\\])?)\$(?!\d))"
)
MAX_TEX = 500  # longer "formulas" are stray dollars, not math
MAX_FORMULAS = 64  # per text: past them, formulas show as their source (bounded work)
MATHML = "http://www.w3.org/1998/Math/MathML"
# latex2mathml copies \text{…} verbatim into its XML: `<` or `&` there fail to parse (the
# formula shows as source) or parse as elements (refused below); no entities, no network.
PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
ELEMENTS = frozenset(
    [
        "math",
        "semantics",
        "annotation",
        "mrow",
        "mi",
        "mn",
        "mo",
        "ms",
        "mtext",
        "mspace",
        "mfrac",
        "msqrt",
        "mroot",
        "mstyle",
        "merror",
        "mpadded",
        "mphantom",
        "mfenced",
        "menclose",
        "msub",
        "msup",
        "msubsup",
        "munder",
        "mover",
        "munderover",
        "mmultiscripts",
        "mprescripts",
        "none",
        "mtable",
        "mtr",
        "mtd",
        "mlabeledtr",
    ]
)
ATTRIBUTES = frozenset(
    [
        "display",
        "mathvariant",
        "stretchy",
        "fence",
        "separator",
        "lspace",
        "rspace",
        "minsize",
        "maxsize",
        "symmetric",
        "largeop",
        "movablelimits",
        "accent",
        "accentunder",
        "linethickness",
        "notation",
        "columnalign",
        "rowalign",
        "columnspacing",
        "rowspacing",
        "columnlines",
        "rowlines",
        "frame",
        "width",
        "height",
        "depth",
        "encoding",
        "scriptlevel",
        "displaystyle",
        "open",
        "close",
        "separators",
        "form",
    ]
)


def mathml(text: str | None) -> Markup:
    """The text, HTML-escaped, with each formula drawn as MathML that keeps its TeX source
    (an annotation, for copying)."""
    return Markup(
        _each_formula(
            text or "",
            lambda tex, display: _formula(tex, "block" if display else "inline"),
            lambda source: str(escape(source)),
            lambda match: str(escape(match[0])),
        )
    )


def plain(text: str | None) -> str:
    """The text with each formula as readable Unicode (α^2, 𝒪(n log n)), for mails and feeds;
    one that does not convert shows its TeX without the dollars."""
    return _each_formula(
        text or "",
        lambda tex, _display: _unicode(tex),
        lambda source: source,
        lambda match: match["display"] or match["inline"],
    )


def _each_formula(
    text: str,
    draw: Callable[[str, bool], str | None],
    quote: Callable[[str], str],
    unconverted: Callable[[re.Match[str]], str],
) -> str:
    """`text` with each formula drawn (or `unconverted` when that gives None), and the prose
    around them quoted, its escaped dollars made plain dollars."""
    parts: list[str] = []
    position = 0
    for number, match in enumerate(FORMULA.finditer(text)):
        parts.append(quote(_literal(text[position : match.start()])))
        tex, display = match["display"] or match["inline"], match["display"] is not None
        drawn = draw(tex, display) if number < MAX_FORMULAS else None
        parts.append(unconverted(match) if drawn is None else drawn)
        position = match.end()
    parts.append(quote(_literal(text[position:])))
    return "".join(parts)


def _literal(prose: str) -> str:
    return prose.replace("\\$", "$")


@lru_cache(maxsize=4096)
def _formula(tex: str, display: str) -> Markup | None:
    if len(tex) > MAX_TEX or not _balanced(tex):
        return None
    try:
        root = etree.fromstring(convert(tex, display=display).encode(), PARSER)
    except Exception:  # latex2mathml raises many kinds on malformed TeX; lxml on bad output
        return None
    if not all(_allowed(element) for element in root.iter()):
        return None
    if any((element.text or "").startswith("\\") for element in root.iter()):
        return None  # a command latex2mathml does not know, drawn as its name
    _keep_source(root, tex)
    return Markup(etree.tostring(root, encoding="unicode"))


def _allowed(element: etree._Element) -> bool:
    if not isinstance(element.tag, str):
        return False  # a comment or processing instruction
    namespace, _, name = element.tag.rpartition("}")
    if namespace.lstrip("{") != MATHML or name not in ELEMENTS:
        return False
    return all(attribute in ATTRIBUTES for attribute in element.attrib)


def _keep_source(root: etree._Element, tex: str) -> None:
    """<math><semantics>…<annotation encoding="application/x-tex">tex</annotation></math>."""
    semantics = etree.Element(f"{{{MATHML}}}semantics")
    semantics.extend(list(root))
    annotation = etree.SubElement(
        semantics, f"{{{MATHML}}}annotation", encoding="application/x-tex"
    )
    annotation.text = tex
    root.append(semantics)


def _balanced(tex: str) -> bool:
    depth = 0
    for character in re.sub(r"\\[{}]", "", tex):
        depth += {"{": 1, "}": -1}.get(character, 0)
        if depth < 0:
            return False
    return depth == 0


@lru_cache(maxsize=4096)
def _unicode(tex: str) -> str | None:
    if len(tex) > MAX_TEX or not _balanced(tex):
        return None
    try:
        return str(LatexNodes2Text(math_mode="text").latex_to_text(tex)).strip() or None
    except Exception:  # pylatexenc's parser errors
        return None
