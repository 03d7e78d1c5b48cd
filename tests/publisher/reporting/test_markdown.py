"""User-supplied strings cannot inject markup into report.md or DATASHEET.md."""

import pandas as pd
import pytest
from markdown_it import MarkdownIt

from policies import parse_policy
from publisher.engine import release
from publisher.reporting.escape import escape

HOSTILE = [
    "<script>alert(1)</script>",
    "<img src=http://evil.example/x.png>",
    "![pixel](http://evil.example/p.png)",
    "[click](javascript:alert(1))",
    "`code` ``` break out",
    "# heading\n---\n| a | b |\n> quote\n1. list",
    "&lt;b&gt; entity &#60;i&#62;",
    "**bold** _em_ ~~strike~~ <http://evil.example>",
]


def render(text):
    return MarkdownIt("commonmark").enable("table").render(text)


@pytest.mark.parametrize("text", HOSTILE)
def test_escaped_text_renders_as_itself(text):
    html = render(escape(text))
    assert html.count("<p>") == 1  # one paragraph: no heading, list, table or quote
    for tag in ("<script", "<img", "<a ", "<code", "<strong", "<em", "<h1", "<table", "<i>", "<b>"):
        assert tag not in html
    plain = " ".join(text.split())
    unescaped = (
        html.removeprefix("<p>").removesuffix("</p>\n")
        .replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"').replace("&amp;", "&")
    )  # fmt: skip
    assert unescaped == plain


@pytest.mark.slow
def test_hostile_policy_and_file_name_in_a_real_bundle(tmp_path):
    description = " ".join(HOSTILE)
    policy = parse_policy(
        "name: 'x<script>alert(1)</script>`'\n"
        f"description: {description!r}\n"
        "licence: '<iframe src=http://evil.example></iframe> ![x](http://evil.example/l.png)'\n"
        "steps: [{pseudonymize_users: {}}]\naudits: {targets: 20}\ngate: none\n",
        "hostile",
    )
    source = tmp_path / "ratings`<b>bold`<img src=x>.csv"  # no '/' in a file name
    rows = [(f"u{u}", i, 1 + (u + i) % 5) for u in range(30) for i in range(1, 9)]
    pd.DataFrame(rows, columns=["user", "item", "rating"]).to_csv(source, index=False)
    out = tmp_path / "bundle"
    release(source, policy, out, seed=1)
    for name in ("report.md", "DATASHEET.md"):
        html = render((out / name).read_text())
        for tag in ("<script", "<img", "<iframe", "<b>", 'href="javascript', 'evil.example/p.png"'):
            assert tag not in html, f"{tag} in {name}"
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;b&gt;bold`&lt;img src=x&gt;" in render((out / "DATASHEET.md").read_text())
    page = (out / "report.html").read_text()
    assert "<script" not in page
    assert "<iframe" not in page
    assert "&lt;script&gt;" in page
    assert "default-src 'none'" in page  # the CSP: nothing loads from anywhere
