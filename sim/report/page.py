"""The report page: one self-contained HTML file (styles, images and figures inline).

Figures are inline SVG (matplotlib) or PNG data URIs, so the file opens without a
network or the run folder next to it.  A small script checks on load that every
image and figure has a size, writes the count to ``body[data-figures]`` and logs a
console error for any that did not render; a headless browser reads both.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from jinja2 import Environment, select_autoescape
from markupsafe import Markup
from matplotlib.figure import Figure

__all__ = ["Graphic", "Page", "Section", "TableBlock", "png_figure", "render_page", "svg_figure",
           "write_page"]


@dataclass(frozen=True)
class TableBlock:
    """A table: a caption, the header and the rows (text cells); `classes` per row."""

    caption: str
    header: Sequence[str]
    rows: Sequence[Sequence[str]]
    row_classes: Sequence[str] = ()


@dataclass(frozen=True)
class Graphic:
    """A rendered figure: inline SVG markup or a PNG data URI, and its caption."""

    caption: str
    svg: str = ""
    png_uri: str = ""


@dataclass
class Section:
    """A heading with tables, figures and preformatted text, in that order."""

    title: str
    tables: list[TableBlock] = field(default_factory=list)
    figures: list[Graphic] = field(default_factory=list)
    text: str = ""
    note: str = ""


@dataclass
class Page:
    title: str
    subtitle: str
    sections: list[Section]


def svg_figure(fig: Figure, caption: str) -> Graphic:
    """A matplotlib figure as inline SVG (its XML prologue dropped)."""
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    text = buffer.getvalue()
    return Graphic(caption, svg=text[text.index("<svg"):])


def png_figure(path: Path, caption: str) -> Graphic:
    """A PNG file as a data URI."""
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return Graphic(caption, png_uri=f"data:image/png;base64,{data}")


_TEMPLATE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{{ page.title }}</title>
<style>
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 70em; color: #222; }
h1 { margin-bottom: 0; } .subtitle { color: #666; margin-top: .3em; }
table { border-collapse: collapse; margin: .8em 0 1.5em; font-size: .92em; }
caption { text-align: left; font-weight: 600; padding-bottom: .3em; }
th, td { border-bottom: 1px solid #ddd; padding: .25em .8em; text-align: right; }
th:first-child, td:first-child { text-align: left; }
tr.pass td.verdict { color: #176b2c; font-weight: 600; }
tr.fail td.verdict { color: #b3261e; font-weight: 600; }
figure { margin: 1em 0 2em; } figure svg, figure img { max-width: 100%; height: auto; }
figcaption { color: #555; font-size: .9em; }
pre { background: #f6f6f6; padding: 1em; overflow-x: auto; font-size: .85em; }
.note { color: #666; font-size: .9em; }
</style>
</head>
<body>
<h1>{{ page.title }}</h1>
<p class="subtitle">{{ page.subtitle }}</p>
{% for section in page.sections %}
<section>
<h2>{{ section.title }}</h2>
{% if section.note %}<p class="note">{{ section.note }}</p>{% endif %}
{% for table in section.tables %}
<table>
<caption>{{ table.caption }}</caption>
<thead><tr>{% for h in table.header %}<th>{{ h }}</th>{% endfor %}</tr></thead>
<tbody>
{% for row in table.rows %}
<tr{% if table.row_classes %} class="{{ table.row_classes[loop.index0] }}"{% endif %}>
{% for cell in row %}
<td{% if table.row_classes and loop.last %} class="verdict"{% endif %}>{{ cell }}</td>
{% endfor %}
</tr>
{% endfor %}
</tbody>
</table>
{% endfor %}
{% for fig in section.figures %}
<figure>
{% if fig.svg %}{{ markup(fig.svg) }}
{% else %}<img src="{{ fig.png_uri }}" alt="{{ fig.caption }}">{% endif %}
<figcaption>{{ fig.caption }}</figcaption>
</figure>
{% endfor %}
{% if section.text %}<pre>{{ section.text }}</pre>{% endif %}
</section>
{% endfor %}
<script>
window.addEventListener("load", function () {
  var shown = document.querySelectorAll("figure > img, figure > svg");
  var rendered = 0;
  shown.forEach(function (el) {
    var box = el.getBoundingClientRect();
    if (box.width > 0 && box.height > 0 && (el.tagName !== "IMG" || el.naturalWidth > 0)) {
      rendered += 1;
    } else {
      console.error("figure not rendered: " + (el.getAttribute("alt") || el.tagName));
    }
  });
  document.body.setAttribute("data-figures", shown.length + "/" + rendered);
});
</script>
</body>
</html>
"""


def render_page(page: Page) -> str:
    """The page as HTML text (every value escaped, figures' SVG inserted as markup)."""
    env = Environment(autoescape=select_autoescape(default=True), trim_blocks=True,
                      lstrip_blocks=True)
    return env.from_string(_TEMPLATE).render(page=page, markup=Markup)


def write_page(page: Page, target: Path) -> Path:
    """Write the page to `target` atomically: a reader never sees half a file."""
    staging = target.with_suffix(target.suffix + ".part")
    staging.write_text(render_page(page), encoding="utf-8")
    staging.replace(target)
    return target
