"""The Train page's one-block status panel: geometry, escaping and Markdown safety of its HTML."""

import re
import xml.etree.ElementTree as ET

from siamese_ui.live_panel import charts_html, metrics_html, panel_html, progress_html, table_html
from siamese_ui.svg_chart import Series, svg_chart


def test_progress_bar_width_and_value_follow_the_fraction_clamped_to_0_1():
    html = progress_html(0.4567, "Training · epoch 3/10", "#2e7d32")
    assert 'aria-valuenow="46"' in html and "width:45.7%" in html and "background:#2e7d32" in html
    assert ">Training · epoch 3/10<" in html
    assert "width:100.0%" in progress_html(1.7, "", "#000") and 'aria-valuenow="100"' in progress_html(
        1.7, "", "#000"
    )
    assert "width:0.0%" in progress_html(-0.2, "", "#000")


def test_every_text_is_escaped():
    """A device name or a label can never inject markup into the page."""
    html = panel_html(
        progress_html(0.5, "<script>alert(1)</script>", "red"),
        metrics_html([("Device", "<b>GPU</b>")]),
        table_html(["a<b"], [["1 & 2"]], "x > y"),
    )
    assert "<script>" not in html and "<b>GPU" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "&lt;b&gt;GPU&lt;/b&gt;" in html
    assert "a&lt;b" in html and "1 &amp; 2" in html and "x &gt; y" in html


def test_the_block_is_one_well_formed_element_with_no_newline():
    """Markdown ends a raw HTML block at a blank line, so the block must hold none (here: no
    newline at all, even when a text has one); and it must parse as one element."""
    svg = svg_chart([Series("loss", [0, 1, 2], [1.0, 0.5, 0.25], "#1f77b4")], "loss", "batch")
    html = panel_html(
        progress_html(0.25, "line one\nline two", "#2e7d32"),
        metrics_html([("Training loss", "0.2500"), ("Device", "CPU")]),
        charts_html([svg, svg]),
        table_html(["epoch", "loss"], [["1", "0.5000"], ["2", "0.2500"]], "The last 2 of 7 epochs"),
    )
    assert "\n" not in html
    root = ET.fromstring(html)
    assert root.tag == "div" and root.get("class") == "sl-live"
    assert len(root.findall(".//{http://www.w3.org/2000/svg}svg")) == 2


def test_metrics_and_table_hold_the_given_figures_in_order():
    html = metrics_html([("Training loss", "0.1234"), ("Validation pair accuracy", "97.50%")])
    assert re.findall(r'class="sl-metric-label"[^>]*>([^<]+)<', html) == [
        "Training loss",
        "Validation pair accuracy",
    ]
    assert re.findall(r'class="sl-metric-value"[^>]*>([^<]+)<', html) == ["0.1234", "97.50%"]
    table = ET.fromstring(table_html(["epoch", "loss"], [["1", "0.5000"], ["2", "0.2500"]]))
    assert [th.text for th in table.iter("th")] == ["epoch", "loss"]
    assert [[td.text for td in tr.iter("td")] for tr in table.find("tbody")] == [
        ["1", "0.5000"],
        ["2", "0.2500"],
    ]
    assert "The last" not in table_html(["a"], [["1"]])  # no caption unless given
