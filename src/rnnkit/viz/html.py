"""Small pieces of a self-contained HTML page: escaped text, tables, embedded images.

Every piece returns a string of HTML in which all text has gone through
:func:`html.escape`, so a label such as ``<unk>`` or a path with ``&`` shows as it is
and never becomes markup. Images are embedded as ``data:image/png;base64,...`` URIs,
so a page made of these pieces needs no other file and no network.

>>> esc("<unk> & co")
'&lt;unk&gt; &amp; co'
>>> cell(1234567), cell(0.123456), cell(None)
('1,234,567', '0.1235', '-')
>>> table(["label"], [["<unk>"]]).split("<tbody>")[1]
'<tr><td>&lt;unk&gt;</td></tr></tbody></table></div>'
>>> png_img(b"\\x89PNG...", "a plot")[:45]
'<img alt="a plot" src="data:image/png;base64,'

The page is read on phones as well as on screens: it sets the viewport to the
device's width, each table scrolls sideways inside a box of its own instead of
widening the page, and every image states its size so that the text does not jump
while it is decoded.
"""

from __future__ import annotations

import base64
import html
import math
import struct
from collections.abc import Iterable, Sequence
from typing import Any

__all__ = ["PAGE_CSS", "cell", "esc", "key_values", "note", "page", "png_img", "section", "table"]

#: the page's only style sheet, inline
PAGE_CSS = """
body { font-family: system-ui, sans-serif; max-width: 72rem; margin: 2rem auto;
       padding: 0 1rem; color: #222; line-height: 1.4; overflow-wrap: break-word; }
h1 { font-size: 1.6rem; } h2 { border-bottom: 1px solid #ccc; margin-top: 2.5rem; }
div.scroll { overflow-x: auto; max-width: 100%; }
table { border-collapse: collapse; margin: 0.8rem 0; font-size: 0.9rem; }
th, td { border: 1px solid #ddd; padding: 0.25rem 0.6rem; text-align: left; }
table.kv td { overflow-wrap: anywhere; }
th { background: #f3f3f3; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.best td { background: #fff6d5; } tr.total td { font-weight: bold; }
p.note { color: #555; font-style: italic; } img { max-width: 100%; height: auto; }
pre { background: #f7f7f7; padding: 0.6rem; overflow-x: auto; }
nav a { margin-right: 1rem; } code { background: #f3f3f3; padding: 0 0.2rem; }
"""


def esc(text: Any) -> str:
    """`text` as HTML text: ``&``, ``<``, ``>`` and quotes escaped."""
    return html.escape(str(text), quote=True)


def cell(value: Any) -> str:
    """A number or text as a table cell's text: ints with thousands separators, floats
    to four significant digits (whole above 1,000), None and NaN as a dash."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.0f}" if abs(value) >= 1000 and math.isfinite(value) else f"{value:.4g}"
    return str(value)


def _td(value: Any) -> str:
    numeric = isinstance(value, (int, float)) and not isinstance(value, bool)
    return f'<td class="num">{esc(cell(value))}</td>' if numeric else f"<td>{esc(cell(value))}</td>"


def table(
    headers: Sequence[str], rows: Iterable[Sequence[Any]], row_classes: Sequence[str] = ()
) -> str:
    """A table with a header row; numbers right-aligned; `row_classes[i]` (optional)
    is the class of row i (``"best"``, ``"total"``). The table sits in a box that
    scrolls sideways when the table is wider than the page (a phone's screen)."""
    head = "".join(f"<th>{esc(h)}</th>" for h in headers)
    body = []
    for i, row in enumerate(rows):
        cls = row_classes[i] if i < len(row_classes) and row_classes[i] else ""
        attr = f' class="{esc(cls)}"' if cls else ""
        body.append(f"<tr{attr}>" + "".join(_td(v) for v in row) + "</tr>")
    inner = f"<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody>"
    return f'<div class="scroll"><table>{inner}</table></div>'


def key_values(pairs: Iterable[tuple[str, Any]]) -> str:
    """A two-column table of (name, value) pairs, one a row, names as row headers;
    pairs whose value is None are left out. A long value (a command line, a path) wraps
    anywhere rather than widening the page."""
    rows = "".join(
        f'<tr><th scope="row">{esc(k)}</th><td>{esc(cell(v))}</td></tr>'
        for k, v in pairs
        if v is not None
    )
    return f'<div class="scroll"><table class="kv"><tbody>{rows}</tbody></table></div>'


def note(text: str) -> str:
    """A sentence saying why something is not shown, and how to get it."""
    return f'<p class="note">{esc(text)}</p>'


def _png_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) in pixels from a PNG's header chunk, None if `data` has none.

    >>> header = b"\\x00\\x00\\x00\\rIHDR" + (840).to_bytes(4, "big") + (340).to_bytes(4, "big")
    >>> _png_size(b"\\x89PNG\\r\\n\\x1a\\n" + header), _png_size(b"\\x89PNG...")
    ((840, 340), None)
    """
    # the signature (8 bytes), then the IHDR chunk: length (4), type (4), width, height
    if len(data) < 24 or data[12:16] != b"IHDR":
        return None
    width, height = struct.unpack(">II", data[16:24])
    return (width, height) if width > 0 and height > 0 else None


def png_img(data: bytes, alt: str) -> str:
    """An ``<img>`` holding the PNG bytes themselves, as a base64 data URI, with its
    width and height when the PNG's header gives them (the style sheet scales it down
    to the page's width, keeping its proportions)."""
    encoded = base64.b64encode(data).decode("ascii")
    size = _png_size(data)
    dims = f' width="{size[0]}" height="{size[1]}"' if size else ""
    return f'<img alt="{esc(alt)}"{dims} src="data:image/png;base64,{encoded}">'


def section(anchor: str, title: str, body: str) -> str:
    """A ``<section>`` with an id (the page's table of contents links to it) and an h2."""
    return f'<section id="{esc(anchor)}">\n<h2>{esc(title)}</h2>\n{body}\n</section>'


def page(title: str, sections: Sequence[tuple[str, str, str]]) -> str:
    """A whole HTML5 page: the title, a table of contents, then each (anchor, title,
    body) as a section."""
    nav = "".join(f'<a href="#{esc(a)}">{esc(t)}</a>' for a, t, _ in sections)
    parts = [section(a, t, body) for a, t, body in sections]
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{esc(title)}</title>\n<style>{PAGE_CSS}</style>\n</head>\n<body>\n"
        f"<h1>{esc(title)}</h1>\n<nav>{nav}</nav>\n" + "\n".join(parts) + "\n</body>\n</html>\n"
    )
