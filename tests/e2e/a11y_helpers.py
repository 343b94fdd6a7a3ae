"""Measuring accessibility in the browser: axe-core runs, colour contrast from computed styles."""

from __future__ import annotations

from playwright.sync_api import Locator, Page

from tests.e2e.conftest import WIDTHS

AXE_OPTIONS = {
    "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]},
    "resultTypes": ["violations"],
}
BLOCKING = ("serious", "critical")

# The colours of an element, resolved by the browser: whatever CSS syntax the computed style uses
# (rgb(), color(srgb ...), color-mix), a 1x1 canvas turns it into 8-bit sRGB.
_RGB_JS = """
(value) => {
  const canvas = document.createElement('canvas');
  canvas.width = canvas.height = 1;
  const ctx = canvas.getContext('2d');
  ctx.clearRect(0, 0, 1, 1);
  ctx.fillStyle = '#000';
  ctx.fillStyle = value;
  ctx.fillRect(0, 0, 1, 1);
  return Array.from(ctx.getImageData(0, 0, 1, 1).data);
}
"""

# The first non-transparent background at or above an element (the page's white at the top).
_BACKGROUND_JS = """
(el) => {
  for (let node = el; node && node.nodeType === 1; node = node.parentElement) {
    const bg = getComputedStyle(node).backgroundColor;
    if (bg && bg !== 'transparent' && !/rgba\\(.*,\\s*0\\)$/.test(bg)) return bg;
  }
  return 'rgb(255, 255, 255)';
}
"""


def axe_failures(page: Page, where: str) -> list[str]:
    """Run axe on the page as it is; print every violation, return the serious and critical ones."""
    from axe_playwright_python.sync_playwright import Axe

    # Measure what stays on screen, not a dialog halfway through its fade-in.
    page.wait_for_function("() => document.getAnimations().every((a) => a.playState !== 'running')")
    results = Axe().run(page, options=AXE_OPTIONS)
    failures = []
    for violation in results.response["violations"]:
        targets = "; ".join(", ".join(node["target"]) for node in violation["nodes"][:6])
        line = f"{where}: {violation['id']} ({violation['impact']}) {violation['help']} -> {targets}"
        print(line)  # noqa: T201 - the lesser ones are reported, not failed
        if violation["impact"] in BLOCKING:
            failures.append(line)
    return failures


def axe_at_both_widths(page: Page, where: str, ready: Locator | None = None) -> list[str]:
    """axe at each of `WIDTHS` (1280x800 and 375x800), back to desktop afterwards."""
    failures: list[str] = []
    for label, (width, height) in WIDTHS.items():
        page.set_viewport_size({"width": width, "height": height})
        if ready is not None:
            ready.wait_for(state="visible")
        failures += axe_failures(page, f"{where} [{label}]")
    page.set_viewport_size({"width": WIDTHS["desktop"][0], "height": WIDTHS["desktop"][1]})
    return failures


def rgb(page: Page, css_color: str) -> tuple[int, int, int, int]:
    return tuple(page.evaluate(_RGB_JS, css_color))


def background_of(locator: Locator) -> str:
    return locator.evaluate(_BACKGROUND_JS)


def _luminance(color: tuple[int, ...]) -> float:
    def channel(c: int) -> float:
        c = c / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(c) for c in color[:3])
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: tuple[int, ...], b: tuple[int, ...]) -> float:
    hi, lo = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def text_contrast(page: Page, locator: Locator) -> float:
    """The contrast of an element's text colour against its own (or nearest) background."""
    color = locator.evaluate("(el) => getComputedStyle(el).color")
    return contrast(rgb(page, color), rgb(page, background_of(locator)))


def focus_ring(page: Page, locator: Locator) -> tuple[str, float, float]:
    """The focused element's outline (style, contrast against the page behind the element, contrast
    against the element's own background)."""
    style = locator.evaluate(
        "(el) => { const s = getComputedStyle(el); return [s.outlineStyle, s.outlineWidth, s.outlineColor]; }"
    )
    outline_style, outline_width, outline_color = style
    ring = rgb(page, outline_color)
    page_behind = rgb(page, locator.evaluate(_BACKGROUND_JS.replace("let node = el", "let node = el.parentElement")))
    control = rgb(page, background_of(locator))
    if float(outline_width.rstrip("px") or 0) < 2 or outline_style in ("none", "hidden"):
        return f"{outline_style} {outline_width}", 0.0, 0.0
    return f"{outline_style} {outline_width} {outline_color}", contrast(ring, page_behind), contrast(ring, control)
