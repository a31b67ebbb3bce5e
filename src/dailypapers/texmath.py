"""TeX in titles and abstracts (`$\\mathcal{O}(n \\log n)$`): MathML for pages, readable Unicode
for mails and feeds. A formula that does not convert, or converts to anything outside MathML's
presentation elements, is shown as its source: stored text never becomes markup or breaks a page.
"""

from __future__ import annotations

import re
from functools import lru_cache

from latex2mathml.converter import convert
from lxml import etree
from markupsafe import Markup, escape
from pylatexenc.latex2text import LatexNodes2Text

# $…$ inline and $$…$$ display; a backslash before the dollar makes it a literal dollar.
FORMULA = re.compile(r"(?<!\\)\$(\$?)(?P<tex>[^$]+?)(?<!\\)\1\$")
MAX_TEX = 2_000  # longer "formulas" are a stray dollar, not math
MATHML = "http://www.w3.org/1998/Math/MathML"
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
    if not text:
        return Markup("")
    parts: list[str] = []
    position = 0
    for match in FORMULA.finditer(text):
        parts.append(escape(text[position : match.start()]))
        drawn = _formula(match["tex"], "block" if match[1] else "inline")
        parts.append(drawn if drawn is not None else escape(match[0]))
        position = match.end()
    parts.append(escape(text[position:]))
    return Markup("".join(parts))


def plain(text: str | None) -> str:
    """The text with each formula as readable Unicode (α^2, 𝒪(n log n)), for mails and feeds."""
    if not text:
        return ""
    return FORMULA.sub(lambda match: _unicode(match["tex"]) or match[0], text)


@lru_cache(maxsize=4096)
def _formula(tex: str, display: str) -> Markup | None:
    if len(tex) > MAX_TEX or not _balanced(tex):
        return None
    try:
        root = etree.fromstring(convert(tex, display=display).encode())
    except Exception:  # latex2mathml raises many kinds on malformed TeX; lxml on bad output
        return None
    if not all(_allowed(element) for element in root.iter()):
        return None
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
