"""The built site in headless Chromium (Debian's ``chromium``), opened from file:// with no network: every page
loads with no console error, no failed request, no broken image, no unrendered formula and no broken internal link;
search, filtering and sorting work; axe-core finds no serious accessibility violation; screenshots at desktop and
phone widths are saved (the path is printed) for people to look at.

Skipped only where Chromium is absent; CI installs it (.ci/run).
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest

CHROMIUM = shutil.which("chromium") or next((p for p in ("/usr/bin/chromium",) if Path(p).exists()), None)
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed here (CI installs it)")

# As the machine notes say: no background networking, a fresh profile (Playwright makes one per launch).
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
DESKTOP, PHONE = {"width": 1280, "height": 900}, {"width": 390, "height": 844}

_PROBE = """() => ({
  brokenImages: Array.from(document.images).filter(i => !i.complete || i.naturalWidth === 0).map(i => i.src),
  noAlt: Array.from(document.images).filter(i => !i.alt.trim()).map(i => i.src),
  formulaBoxes: Array.from(document.querySelectorAll('.am-formula')).map(
      box => Array.from(box.querySelectorAll('img.formula')).some(i => i.naturalWidth > 0)),
  catalogRows: Array.from(document.querySelectorAll('.am-catalog tbody tr')).map(
      row => Array.from(row.querySelectorAll('img.formula')).some(i => i.naturalWidth > 0)),
  links: Array.from(document.querySelectorAll('a[href]')).map(a => a.href).filter(h => h.startsWith('file:')),
  overflow: document.documentElement.scrollWidth - window.innerWidth,
})"""


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        browser.close()


class Tab:
    """A page that records every console error, page error and failed request."""

    def __init__(self, browser, viewport=DESKTOP):
        self.page = browser.new_page(viewport=viewport)
        self.problems: list[str] = []
        self.page.on("console", lambda m: self.problems.append(f"console {m.type}: {m.text}")
                     if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.problems.append(f"page error: {e}"))
        # ERR_ABORTED is a request the next navigation cancelled (the favicon of a page left at once), not a
        # missing or refused resource: those fail with their own error
        self.page.on("requestfailed", lambda r: self.problems.append(f"failed request: {r.url} {r.failure}")
                     if "ERR_ABORTED" not in (r.failure or "") else None)

    def open(self, path: Path) -> dict:
        self.page.goto(path.as_uri(), wait_until="load")
        return self.page.evaluate(_PROBE)


def _ids(path: Path, cache: dict[Path, set[str]]) -> set[str]:
    if path not in cache:
        cache[path] = set(re.findall(r'\sid="([^"]+)"', path.read_text(encoding="utf-8")))
    return cache[path]


def test_every_page_loads_cleanly_with_formulas_and_links(site, browser):
    tab, ids, problems = Tab(browser), {}, []
    # 404.html is what a web server answers for a missing path, at any depth, so its links are absolute by design
    pages = sorted(p for p in site.rglob("*.html") if p.name != "404.html")
    assert len(pages) > 90
    for page in pages:
        found = tab.open(page)
        where = page.relative_to(site).as_posix()
        problems += [f"{where}: {p}" for p in tab.problems]
        tab.problems.clear()
        problems += [f"{where}: image did not load: {src}" for src in found["brokenImages"]]
        problems += [f"{where}: image without alt text: {src}" for src in found["noAlt"]]
        if not all(found["formulaBoxes"]) or not all(found["catalogRows"]):
            problems.append(f"{where}: unrendered formula")
        if where.startswith("functions/") and not found["formulaBoxes"]:
            problems.append(f"{where}: no formula")
        for link in found["links"]:
            url = urlparse(link)
            target = Path(unquote(url.path))
            if not target.exists():
                problems.append(f"{where}: broken link {link}")
            elif url.fragment and target.suffix == ".html" and unquote(url.fragment) not in _ids(target, ids):
                problems.append(f"{where}: broken anchor {link}")
    assert not problems, "\n".join(problems[:40])


def test_screenshots_at_desktop_and_phone_widths(site, browser, tmp_path_factory):
    out = Path(os.environ.get("ALMANAC_ARTIFACTS") or tmp_path_factory.mktemp("screenshots"))
    out.mkdir(parents=True, exist_ok=True)
    shots = {"home": "index.html", "catalog": "catalog/losses.html", "function": "functions/loss/focal.html",
             "guide": "guides/mistakes.html"}
    for width, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
        tab = Tab(browser, viewport)
        for name, page in shots.items():
            found = tab.open(site / page)
            path = out / f"{name}-{width}.png"
            tab.page.screenshot(path=str(path))
            assert path.stat().st_size > 10_000
            assert found["overflow"] <= 1, f"{page} scrolls sideways at {width} width"
        assert not tab.problems, tab.problems
    print(f"\nscreenshots: {out}")


def test_search_works_offline_from_the_file_system(site, browser):
    tab = Tab(browser)
    tab.open(site / "index.html")
    tab.page.keyboard.press("/")
    tab.page.keyboard.type("focal", delay=20)
    tab.page.wait_for_selector(".md-search-result__item", timeout=20_000)
    hrefs = [a.get_attribute("href") for a in tab.page.query_selector_all(".md-search-result__link")]
    assert any("functions/loss/focal.html" in h for h in hrefs), hrefs
    assert not tab.problems, tab.problems


def test_the_catalog_filters_and_sorts(site, browser):
    tab = Tab(browser)
    tab.open(site / "catalog" / "losses.html")
    page = tab.page

    def shown() -> list[str]:
        return page.eval_on_selector_all(".am-catalog tbody tr:not([hidden]) td:first-child",
                                         "cells => cells.map(c => c.textContent.trim())")

    every = shown()
    assert len(every) == len(set(every)) > 20
    page.fill(".am-catalog-controls input", "sigmoid_focal")
    page.dispatch_event(".am-catalog-controls input", "input")
    assert shown() == ["focal"]
    page.fill(".am-catalog-controls input", "")
    page.dispatch_event(".am-catalog-controls input", "input")
    header = page.locator(".am-catalog th button", has_text="name")
    header.click()
    assert shown() == sorted(every)
    header.click()
    assert shown() == sorted(every, reverse=True)
    assert page.get_attribute(".am-catalog th:first-child", "aria-sort") == "descending"
    assert not tab.problems, tab.problems


def _serious_violations(page) -> list[str]:
    import axe_playwright_python

    script = (Path(axe_playwright_python.__file__).parent / "axe.min.js").read_text(encoding="utf-8")
    page.evaluate(script)  # injected from the installed package: no network
    result = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    return [f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:3]}"
            for v in result["violations"] if v["impact"] in ("serious", "critical")]


@pytest.mark.parametrize("page", ["index.html", "catalog/losses.html", "functions/loss/focal.html",
                                  "functions/metric/auroc.html", "guides/mistakes.html", "guides/choosing.html",
                                  "guides/training.html", "cli/train.html", "reference/almanac.losses.html"])
def test_no_serious_accessibility_violation(site, browser, page):
    tab = Tab(browser)
    tab.open(site / page)
    assert not _serious_violations(tab.page)
    alts = tab.page.eval_on_selector_all("img", "imgs => imgs.filter(i => !i.alt).map(i => i.src)")
    assert not alts, f"images without alt text: {alts}"


# -- the reports of almanac train and almanac compare: the same stylesheet, inlined --------------------------------
@pytest.fixture(scope="module")
def reports(tmp_path_factory) -> dict[str, Path]:
    """A real (one-epoch) ``almanac train`` report and an ``almanac compare`` report of the lab's test fake."""
    import importlib.util

    from almanac.lab.report import write_report
    from almanac.lab.store import Run
    from almanac.lab.summary import Summary
    from almanac.train.job import RunConfig, run

    out = tmp_path_factory.mktemp("reports")
    train, _, _ = run(RunConfig(dataset="breast_cancer", epochs=1, out=str(out), name="train"), progress=False)
    spec = importlib.util.spec_from_file_location("lab_fakes", Path(__file__).parents[1] / "lab" / "lab_fakes.py")
    fakes = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(fakes)
    fake = fakes.FAKE
    runs = [Run(f"{loss}{s}", "fake", {"loss": loss}, s, False, fake.run({"loss": loss}, s, False))
            for loss in ("good", "bad") for s in range(2)]
    summary = Summary.from_runs(runs, order=fake.configs())
    compare = write_report(fake, runs, summary, fake.finding(summary), out / "compare")
    return {"train": train / "report.html", "compare": compare}


@pytest.mark.parametrize("kind", ["train", "compare"])
def test_reports_share_the_sites_look_in_one_file(site, browser, reports, kind, tmp_path_factory):
    from almanac._style import stylesheet

    text = reports[kind].read_text(encoding="utf-8")
    assert stylesheet() in text and "<link" not in text and "<script" not in text  # inlined, self-contained
    colours = []
    for viewport, width in ((DESKTOP, "desktop"), (PHONE, "phone")):
        tab = Tab(browser, viewport)
        found = tab.open(reports[kind])
        assert not tab.problems and not found["brokenImages"], tab.problems + found["brokenImages"]
        assert found["overflow"] <= 1, f"the {kind} report scrolls sideways at {width} width"
        out = Path(os.environ.get("ALMANAC_ARTIFACTS") or tmp_path_factory.mktemp("screenshots"))
        out.mkdir(parents=True, exist_ok=True)
        tab.page.screenshot(path=str(out / f"report-{kind}-{width}.png"))
        colours.append(tab.page.evaluate("getComputedStyle(document.querySelector('body > header')).backgroundColor"))
        assert not _serious_violations(tab.page)
    home = Tab(browser)
    home.open(site / "index.html")
    site_colour = home.page.evaluate("getComputedStyle(document.querySelector('.md-header')).backgroundColor")
    assert colours == [site_colour, site_colour] == ["rgb(57, 73, 171)"] * 2
