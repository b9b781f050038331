"""parse_mode parsing into entities (UTF-16 offsets) and the HTML rendering viewers use."""

from __future__ import annotations

import pytest

from emulator.errors import ApiError
from emulator.formatting import entities_to_html, format_text, parse_html, parse_markdown_v2


def test_html_entities_use_utf16_offsets() -> None:
    text, entities = parse_html("🎁 <b>Бонус</b> &lt;100&gt; <a href='https://x.test/?a=1&amp;b=2'>link</a>")
    assert text == "🎁 Бонус <100> link"
    assert entities == [
        {"type": "bold", "offset": 3, "length": 5},  # the emoji is two UTF-16 code units
        {"type": "text_link", "url": "https://x.test/?a=1&b=2", "offset": 15, "length": 4},
    ]


def test_html_pre_with_language_and_nesting() -> None:
    text, entities = parse_html('<b>a<i>b</i></b><pre><code class="language-python">x = 1</code></pre>')
    assert text == "abx = 1"
    assert entities == [
        {"type": "bold", "offset": 0, "length": 2},
        {"type": "italic", "offset": 1, "length": 1},
        {"type": "pre", "language": "python", "offset": 2, "length": 5},
    ]


@pytest.mark.parametrize(
    ("source", "error"),
    [
        ("<b>bold", 'Can\'t find end tag corresponding to start tag "b"'),
        ("<b><i>x</b></i>", 'Unmatched end tag at byte offset 7, expected "</i>", found "</b>"'),
        ("Иван <script>", 'Unsupported start tag "script" at byte offset 9'),
        ("a < b > c", 'Unsupported start tag "" at byte offset 2'),
        ("a < b", "Unclosed start tag at byte offset 2"),
        ("</b>", "Unexpected end tag at byte offset 0"),
    ],
)
def test_html_errors_match_telegram(source: str, error: str) -> None:
    with pytest.raises(ApiError) as raised:
        parse_html(source)
    assert raised.value.description == f"Bad Request: can't parse entities: {error}"


def test_markdown_v2_entities_and_reserved_characters() -> None:
    text, entities = parse_markdown_v2("*Баланс:* __120__ ~old~ ||secret|| `x\\`y` [site](https://x.test/a\\)b) 1\\.5")
    assert text == "Баланс: 120 old secret x`y site 1.5"
    assert [(e["type"], e["offset"], e["length"]) for e in entities] == [
        ("bold", 0, 7),
        ("underline", 8, 3),
        ("strikethrough", 12, 3),
        ("spoiler", 16, 6),
        ("code", 23, 3),
        ("text_link", 27, 4),
    ]
    assert entities[-1]["url"] == "https://x.test/a)b"
    with pytest.raises(ApiError, match=r"Character '\.' is reserved"):
        parse_markdown_v2("Итого 1.5")
    with pytest.raises(ApiError, match="Can't find end of Bold entity at byte offset 0"):
        parse_markdown_v2("*open")


def test_legacy_markdown_and_explicit_entities() -> None:
    assert format_text("*b* _i_ 1.5", "Markdown", None) == (
        "b i 1.5",
        [{"type": "bold", "offset": 0, "length": 1}, {"type": "italic", "offset": 2, "length": 1}],
    )
    explicit = [{"type": "bold", "offset": 0, "length": 1}]
    assert format_text("<b>", "HTML", explicit) == ("<b>", explicit)  # entities win over parse_mode


def test_entities_render_back_to_escaped_html() -> None:
    source = '🎁 <b>a <i>&lt;b&gt;</i></b> <a href="https://x.test/?q=&quot;">l</a> <tg-spoiler>s</tg-spoiler>'
    text, entities = parse_html(source)
    assert entities_to_html(text, entities) == (
        '🎁 <b>a <i>&lt;b&gt;</i></b> <a href="https://x.test/?q=&quot;">l</a> <tg-spoiler>s</tg-spoiler>'
    )
    overlapping = [{"type": "bold", "offset": 0, "length": 3}, {"type": "italic", "offset": 1, "length": 3}]
    assert entities_to_html("abcd", overlapping) == "<b>a<i>bc</i></b><i>d</i>"
