"""What the browser tests share: the two screen sizes, asking in the page as a
person does, and running axe-core in it."""

from __future__ import annotations

DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


def ask(page, question):
    """Types a question, presses Enter and waits for the whole answer."""
    n = page.locator("#turns > .turn").count()
    page.fill("#question", question)
    page.press("#question", "Enter")
    page.wait_for_selector(f"#turns > .turn:nth-child({n + 1}):not(.pending)")
    turn = page.locator("#turns > .turn").nth(n)
    assert "failed" not in turn.get_attribute("class"), turn.locator(".meta").text_content()
    return turn


def axe_violations(page, source: str, impacts=("serious", "critical")) -> list[str]:
    """axe-core run in the page (evaluated, not added as a script: the page's
    Content-Security-Policy rightly refuses inline scripts), its violations of
    the given impacts as readable lines."""
    if not page.evaluate("() => Boolean(window.axe)"):
        page.evaluate(source)
    result = page.evaluate(
        "async () => { const r = await axe.run(document, {resultTypes: ['violations']});"
        " return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,"
        " nodes: v.nodes.slice(0, 3).map(n => n.target.join(' ') + ': ' + n.failureSummary)})); }"
    )
    return [f"{v['id']} ({v['impact']}): {v['help']} -> {v['nodes']}" for v in result if v["impact"] in impacts]
