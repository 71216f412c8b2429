"""The gallery site (tools/gallery.py): built once per module, checked as files, then in headless chromium.

The file checks need nothing but the build: every page is there, every internal href/src
resolves (anchors included), nothing is fetched from the network. The browser checks drive
Debian's chromium through Playwright, from file:// URLs and once through a local HTTP server:
the filter chips and search against the catalog, every page free of console errors and
failed requests with every image loaded, the phone layout, and the two colour schemes.
"""

import functools
import html.parser
import http.server
import io
import re
import threading
from pathlib import Path
from urllib.parse import unquote, urlsplit

import numpy as np
import pytest
from PIL import Image

from recipes.common.style import THEMES
from tools import gallery
from tools.catalog import FAMILIES, PROPERTIES, ROOT, load_catalog
from tools.errors import UsageError

CATALOG = load_catalog()
EXTERNAL = ("http", "https", "mailto")


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    return gallery.build(tmp_path_factory.mktemp("gallery") / "site").parent


class _Parsed(html.parser.HTMLParser):
    """The URLs an HTML page refers to, as (tag, attribute, url), and the ids it defines."""

    def __init__(self):
        super().__init__()
        self.urls, self.ids = [], set()

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name in ("href", "src") and value is not None:
                self.urls.append((tag, name, value))
            elif name in ("id", "name"):
                self.ids.add(value)


@functools.cache
def parsed(path):
    parser = _Parsed()
    parser.feed(Path(path).read_text(encoding="utf-8"))
    return parser


def pages(site):
    return sorted(site.rglob("*.html"))


def broken_link(page, url):
    """Why `url` on `page` does not resolve to a file of the site (or to an id on its page), or None."""
    parts = urlsplit(url)
    if parts.scheme in EXTERNAL:
        return None
    target = (page.parent / unquote(parts.path)).resolve() if parts.path else page
    if parts.scheme or not target.is_file():
        return f"{url} (no file {target})"
    is_state = "=" in parts.fragment  # the index's filter state (#property=attention), read by its script
    if parts.fragment and not is_state and target.suffix == ".html" and parts.fragment not in parsed(target).ids:
        return f"{url} (no id '{parts.fragment}' in {target.name})"
    return None


# --- The files --------------------------------------------------------------------------


def test_build_writes_every_page(site):
    expected = ["index.html", "results.html", *(f"recipes/{rid}.html" for rid in CATALOG), *(f"figures/{kind.name}.html" for kind in gallery.KINDS)]
    assert [page for page in expected if not (site / page).is_file()] == []
    assert all((site / f"recipes/{rid}/model.py.html").is_file() for rid in CATALOG)
    assert (site / gallery.MARKER).is_file()


def test_index_has_a_card_per_recipe_in_catalog_order(site):
    text = (site / "index.html").read_text(encoding="utf-8")
    cards = [value for tag, name, value in parsed(site / "index.html").urls if tag == "a" and value.startswith("recipes/")]
    assert list(dict.fromkeys(cards)) == [f"recipes/{rid}.html" for rid in CATALOG]
    assert f"{len(CATALOG)} of {len(CATALOG)} recipes" in text


def test_every_internal_link_resolves(site):
    broken = [f"{page.relative_to(site)}: {why}" for page in pages(site) for _, _, url in parsed(page).urls if (why := broken_link(page, url))]
    assert broken == []


def test_nothing_is_fetched_from_the_network(site):
    fetched = [
        f"{page.relative_to(site)}: <{tag} {name}={url}>"
        for page in pages(site)
        for tag, name, url in parsed(page).urls
        if (name == "src" or tag == "link") and urlsplit(url).scheme
    ]
    assert fetched == []
    assert "http" not in (site / "assets" / "gallery.js").read_text(encoding="utf-8")
    css = (site / "assets" / "style.css").read_text(encoding="utf-8")
    assert "@import" not in css and "url(" not in css


def test_the_palette_is_the_figures(site):
    css = (site / "assets" / "style.css").read_text(encoding="utf-8")
    assert f"--page: {THEMES['light']['page']};" in css and f"--page: {THEMES['dark']['page']};" in css


def test_readme_links_lead_to_site_pages(tmp_path):
    site = gallery._Site(tmp_path, CATALOG)
    here, other = list(CATALOG)[:2]
    shared = sorted((ROOT / "recipes" / "common").glob("*.py"))[0].name

    def link(href):
        return site.link(href, ROOT / "recipes" / here, f"recipes/{here}.html", "test")

    assert link(f"../{other}/") == f"{other}.html"
    assert link(f"../{other}/README.md#result") == f"{other}.html#result"
    assert link("../../README.md") == "../index.html"
    assert link("model.py") == f"{here}/model.py.html"
    assert link(f"../common/{shared}") == f"common/{shared}.html"
    assert link("graph.svg") == f"../assets/recipes/{here}/graph.svg"
    assert link("#result") == "#result"
    assert link("https://example.org/paper") == "https://example.org/paper"
    with pytest.raises(ValueError, match="missing.py"):
        link("missing.py")


def test_out_dir_that_is_a_file_is_refused(tmp_path):
    path = tmp_path / "site"
    path.write_text("mine")
    with pytest.raises(UsageError, match="is a file"):
        gallery.build(path)
    assert path.read_text() == "mine"


def test_a_folder_of_other_files_is_refused_and_kept(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(UsageError, match="not a previous gallery"):
        gallery.build(tmp_path)
    assert [path.name for path in tmp_path.iterdir()] == ["notes.txt"]


def test_a_previous_build_is_replaced(tmp_path):
    (tmp_path / gallery.MARKER).write_text("")
    (tmp_path / "old-page.html").write_text("")
    assert gallery.build(tmp_path) == tmp_path / "index.html"
    assert not (tmp_path / "old-page.html").exists() and (tmp_path / gallery.MARKER).is_file()


# --- In the browser ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser():
    if not gallery.CHROMIUM.is_file():
        pytest.skip(f"chromium not installed ({gallery.CHROMIUM}): run 'sudo apt-get install chromium' (CI's .ci/run does)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("playwright not installed: run 'pip install -r requirements.txt'")
    with sync_playwright() as playwright:
        browser = gallery.launch_chromium(playwright)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def index_tab(browser, site):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto((site / "index.html").as_uri())
    yield page
    page.close()


@pytest.fixture
def index(index_tab):
    """The index with no filter set (one tab for all filter tests: a failed test does not spill over)."""
    index_tab.click("#clear")
    return index_tab


class Visit:
    """A browser tab that records console errors, page errors and failed requests of the pages it opens."""

    def __init__(self, browser, url=None, **context):
        self.problems = []
        self.context = browser.new_context(**context)
        self.page = self.context.new_page()
        self.page.on("console", lambda message: message.type == "error" and self.problems.append(f"console: {message.text}"))
        self.page.on("pageerror", lambda error: self.problems.append(f"page error: {error}"))
        self.page.on("requestfailed", lambda request: self.problems.append(f"failed: {request.url} ({request.failure})"))
        if url:
            self.open(url)

    def open(self, url):
        self.problems.clear()
        self.page.goto(url, wait_until="load")

    def unloaded_images(self):
        """The src of every <img> that did not load (lazy images are loaded first)."""
        self.page.evaluate("document.querySelectorAll('img').forEach(img => img.loading = 'eager')")
        self.page.wait_for_function("Array.from(document.images).every(img => img.complete)")
        return self.page.eval_on_selector_all("img", "images => images.filter(i => !(i.naturalWidth > 0)).map(i => i.src)")

    def broken_links(self):
        """Links (made absolute by the browser) that lead to no file of the site."""
        urls = self.page.eval_on_selector_all("a[href]", "links => links.map(a => a.href)")
        local = [urlsplit(url) for url in urls if url.startswith("file:")]
        return [url.geturl() for url in local if not Path(unquote(url.path)).is_file()]

    def close(self):
        self.context.close()


def visible_ids(page):
    return page.eval_on_selector_all(".card:not([hidden])", "cards => cards.map(c => c.dataset.id)")


def click(page, kind, value):
    page.click(f'.filters .chip[data-filter="{kind}"][data-value="{value}"]')


def test_every_card_shows_its_thumbnail(browser, site):
    visit = Visit(browser, (site / "index.html").as_uri())
    assert visit.page.locator(".card").count() == len(CATALOG)
    assert visit.page.locator(".card .thumb img").count() == len(CATALOG)
    assert visit.unloaded_images() == []
    assert visit.problems == []
    visit.close()


@pytest.mark.parametrize("key", [key for key in PROPERTIES if any(key in entry["properties"] for entry in CATALOG.values())])
def test_a_property_chip_shows_its_recipes(index, key):
    click(index, "property", key)
    expected = [rid for rid, entry in CATALOG.items() if key in entry["properties"]]
    assert visible_ids(index) == expected
    assert index.inner_text("#count") == f"{len(expected)} of {len(CATALOG)} recipes"
    click(index, "property", key)
    assert len(visible_ids(index)) == len(CATALOG)


def test_chips_combine_with_and(index):
    def having(*keys):
        return [rid for rid, entry in CATALOG.items() if set(keys) <= set(entry["properties"])]

    pairs = [(a, b) for a in PROPERTIES for b in PROPERTIES if a < b and 0 < len(having(a, b)) < min(len(having(a)), len(having(b)))]
    first, second = pairs[0]
    click(index, "property", first)
    click(index, "property", second)
    assert visible_ids(index) == having(first, second)
    family = CATALOG[having(first, second)[0]]["family"]
    click(index, "family", family)
    assert visible_ids(index) == [rid for rid in having(first, second) if CATALOG[rid]["family"] == family]
    index.click("#clear")
    assert len(visible_ids(index)) == len(CATALOG)


@pytest.mark.parametrize("family", [family for family in FAMILIES if any(entry["family"] == family for entry in CATALOG.values())])
def test_a_family_chip_shows_its_recipes(index, family):
    click(index, "family", family)
    assert visible_ids(index) == [rid for rid, entry in CATALOG.items() if entry["family"] == family]


def _matching(query):
    """The ids the search box should keep: every word in id, title, summary, task or modality ('_' read as a space too)."""
    found = []
    for rid, entry in CATALOG.items():
        text = " ".join([rid, entry["title"], entry["summary"], entry["task"], entry["modality"]]).lower()
        if all(word in f"{text} {text.replace('_', ' ')}" for word in query.lower().split()):
            found.append(rid)
    return found


TITLE_WORD = max(re.findall(r"[a-z]+", CATALOG[list(CATALOG)[-1]]["title"].lower()), key=len)  # the last recipe's longest title word


@pytest.mark.parametrize("query", ["speech", "speech recognition", TITLE_WORD, "no such recipe"])
def test_search_narrows_the_cards(index, query):
    index.fill("#search", query)
    assert visible_ids(index) == _matching(query)
    assert index.is_visible("#empty") == (not _matching(query))


def test_a_recipe_page_links_to_the_filtered_index(browser, site):
    rid = next(rid for rid, entry in CATALOG.items() if len(entry["properties"]) > 1)
    key = CATALOG[rid]["properties"][-1]
    visit = Visit(browser, (site / "recipes" / f"{rid}.html").as_uri())
    assert visit.unloaded_images() == []  # else leaving the page aborts their requests
    visit.page.click(f'a[href="../index.html#property={key}"]')
    visit.page.wait_for_selector(".card[hidden]", state="attached")
    assert visible_ids(visit.page) == [rid for rid, entry in CATALOG.items() if key in entry["properties"]]
    assert visit.problems == []
    visit.close()


def test_every_page_loads_cleanly(browser, site):
    """Every page but the source pages (plain highlighted text; one is checked) in one tab, one after the other."""
    visit, problems = Visit(browser), {}
    for page in [path for path in pages(site) if not path.name.endswith(".py.html")] + [site / "recipes" / "memory_task" / "model.py.html"]:
        visit.open(page.as_uri())
        found = visit.problems + [f"image not loaded: {src}" for src in visit.unloaded_images()] + [f"broken link: {u}" for u in visit.broken_links()]
        if found:
            problems[page.relative_to(site).as_posix()] = found
    visit.close()
    assert problems == {}


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def test_served_over_http(browser, site):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(site)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        base = f"http://127.0.0.1:{server.server_address[1]}/"
        visit = Visit(browser)
        for path in (f"recipes/{list(CATALOG)[0]}.html", "figures/circuit.html", "results.html", "index.html"):
            visit.open(base + path)
            assert (visit.unloaded_images(), visit.problems) == ([], []), path
        click(visit.page, "property", "attention")
        assert visible_ids(visit.page) == [rid for rid, entry in CATALOG.items() if "attention" in entry["properties"]]
        visit.close()
    finally:
        server.shutdown()
        server.server_close()


def _rgb(colour):
    return f"rgb({int(colour[1:3], 16)}, {int(colour[3:5], 16)}, {int(colour[5:7], 16)})"


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_colour_scheme_follows_the_system(browser, site, scheme):
    visit = Visit(browser, (site / "index.html").as_uri(), color_scheme=scheme)
    assert visit.page.evaluate("getComputedStyle(document.body).backgroundColor") == _rgb(THEMES[scheme]["page"])
    picture = Image.open(io.BytesIO(visit.page.screenshot())).convert("RGB")
    assert np.asarray(picture).std() > 20 and len(picture.getcolors(maxcolors=1 << 24)) > 100  # not blank
    visit.close()


@pytest.fixture(scope="module")
def phone(browser):
    visit = Visit(browser, viewport={"width": 390, "height": 844}, is_mobile=True)
    yield visit
    visit.close()


@pytest.mark.parametrize("path", ["index.html", *(f"recipes/{rid}.html" for rid in CATALOG), "results.html", "figures/unrolled.html"])
def test_a_phone_never_scrolls_sideways(phone, site, path):
    phone.open((site / path).as_uri())
    assert phone.page.evaluate("document.documentElement.scrollWidth") <= 390
    lefts = phone.page.eval_on_selector_all(".card, .fig-card", "items => items.map(i => i.getBoundingClientRect().left)")
    assert len(set(lefts)) <= 1  # one column
