"""Read an HTML page with the standard library's parser and check that it is well formed.

:func:`read_page` fails the test unless every element that is opened is closed, in
order (void elements such as ``<img>`` excepted), and returns what the report tests
look at: section ids, headings, image sources, links and the visible text.

>>> page = read_page('<!DOCTYPE html><html><body><section id="a"><h2>A &amp; B</h2>'
...                  '<img src="data:image/png;base64,AA"></section></body></html>')
>>> page.ids, page.h2, page.srcs
(['a'], ['A & B'], ['data:image/png;base64,AA'])
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser

__all__ = ["Page", "read_page"]

#: elements that never have an end tag
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source"}


@dataclass
class Page:
    ids: list[str] = field(default_factory=list)
    h2: list[str] = field(default_factory=list)
    srcs: list[str] = field(default_factory=list)
    hrefs: list[str] = field(default_factory=list)
    tags: set[str] = field(default_factory=set)
    text: str = ""


class _Reader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.page, self.open, self.errors = Page(), [], []
        self._in_h2, self._texts = False, []

    def handle_starttag(self, tag, attrs) -> None:
        values = dict(attrs)
        self.page.tags.add(tag)
        if "id" in values:
            self.page.ids.append(values["id"])
        for key, bucket in (("src", self.page.srcs), ("href", self.page.hrefs)):
            if key in values:
                bucket.append(values[key])
        if tag not in VOID:
            self.open.append(tag)
        if tag == "h2":
            self._in_h2, self._h2 = True, ""

    def handle_endtag(self, tag) -> None:
        if not self.open or self.open[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.open[-1:]}")
            return
        self.open.pop()
        if tag == "h2":
            self._in_h2 = False
            self.page.h2.append(self._h2)

    def handle_data(self, data) -> None:
        self._texts.append(data)
        if self._in_h2:
            self._h2 += data


def read_page(html: str) -> Page:
    """The page's facts; AssertionError unless its tags are balanced."""
    reader = _Reader()
    reader.feed(html)
    reader.close()
    assert not reader.errors, reader.errors[:5]
    assert not reader.open, f"never closed: {reader.open}"
    reader.page.text = "".join(reader._texts)
    return reader.page
