"""`recipe gallery`: a static site of the catalog, for students browsing the recipes.

The site is built from what the checkout already holds, never from copies: catalog.yaml
(titles, summaries, properties, papers, brief checks), each recipe's README.md and the
figures committed next to it, docs/figures/atlas.svg, and the results table of
tools/results.py. Its pages:

    index.html                 a card per recipe, filtered by property, family and text (assets/gallery.js)
    recipes/<id>.html          the README rendered, with papers, data, commands, results and diagrams
    recipes/<id>/model.py.html a highlighted page per source file (any .py keeps its checkout path)
    figures/<kind>.html        every recipe's figure of one kind (see KINDS)
    results.html               the results table
    assets/                    style.css, icon.svg, gallery.js; the files the pages show, at their
                               checkout paths (assets/recipes/<id>/graph.svg)

The templates, the stylesheet and the script live in tools/site/; the stylesheet starts with
the figures' palette (recipes/common/style.py) as CSS custom properties, light and dark.
It works offline, opened from disk (file://) or served: every link is relative, nothing
is fetched (the filter reads data-* attributes of the cards), and no font, script or
style comes from elsewhere. A build replaces the previous one in its folder, which it
marks with MARKER; it refuses to write into any other non-empty folder.

`screenshots` photographs a built site with Debian's chromium (docs/screenshots/), the
browser the tests drive too (`launch_chromium`).
"""

import functools
import posixpath
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

import jinja2
from markdown_it import MarkdownIt
from markupsafe import Markup
from mdit_py_plugins.anchors import anchors_plugin
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import PythonLexer, get_lexer_by_name
from pygments.util import ClassNotFound

from recipes.common.style import SERIES, THEMES
from tools import paths, pretrained, results, runner
from tools.catalog import FAMILIES, PROPERTIES, RECIPES_DIR, ROOT, brief_check, load_catalog
from tools.errors import UsageError
from tools.introspect import FIGURES as INSPECT_FIGURES

SITE_DIR = ROOT / "site"
TEMPLATES = Path(__file__).resolve().parent / "site"
MARKER = ".rnn-recipes-gallery"
ATLAS = ROOT / "docs" / "figures" / "atlas.svg"
README = ROOT / "README.md"
# Pygments' colours for code, one style per colour scheme.
CODE_STYLES = {"light": "default", "dark": "github-dark"}


@dataclass(frozen=True)
class Kind:
    """A kind of figure: one page of the site shows every recipe's figure of this kind."""

    name: str
    title: str
    about: str  # Markdown, one line


KINDS = (
    Kind(
        "circuit",
        "Circuit diagrams",
        "Each recurrent network folded in time, in the notation of the Deep Learning book (ch. 10): `recipe diagram ID`.",
    ),
    Kind(
        "unrolled",
        "Unrolled in time",
        "The same networks unfolded over a few steps, one node per layer and step: `recipe diagram ID --view unrolled`.",
    ),
    Kind(
        "cell",
        "Cells, gate by gate",
        "Each recurrent cell at the level of its gates, in the colours of `recipe weights`: `recipe diagram ID --view cell`.",
    ),
    Kind("graph", "Computation graphs", "Keras' layer graph of every model, with shapes: `recipe plot ID`."),
    Kind(
        "inside", "Inside the networks", "States, gradient flow through time, spectra, attention and occlusion of trained networks: `recipe inspect`."
    ),
    Kind("outputs", "What the models produce", "Trained models at work: what each recipe's demo writes."),
)
_DIAGRAMS = {"diagram_circuit.svg": "circuit", "diagram_unrolled.svg": "unrolled", "diagram_cell.svg": "cell"}


def kind_of(name):
    """The kind (a name of KINDS) of the file `name` of a recipe folder, or None when it is no figure."""
    if name in _DIAGRAMS:
        return _DIAGRAMS[name]
    if name.startswith("graph") and name.endswith(".svg"):
        return "graph"
    if name.endswith(".png"):
        return "inside" if name.startswith("inspect_") else "outputs"
    return None


@dataclass
class Figure:
    """A committed figure of a recipe, with the caption the README gives it (else one made from its name)."""

    file: Path
    kind: str
    caption: str

    @property
    def path(self):
        return _asset(self.file)

    @property
    def size(self):
        return image_size(self.file)


@dataclass
class Recipe:
    """What the pages say about one recipe: its catalog entry, results row, rendered README and figures."""

    id: str
    entry: dict
    result: dict
    readme: str = ""
    toc: list = field(default_factory=list)  # [(anchor, heading text)] of the README's sections
    shown: list = field(default_factory=list)  # the recipe's files the README shows, in order
    figures: list = field(default_factory=list)  # README order first, then the rest by name
    sources: list = field(default_factory=list)  # site paths of its source pages: own files, then shared modules
    sounds: list = field(default_factory=list)  # site paths of the committed .wav files (what a speech model says)

    @property
    def thumbnail(self):
        """The first PNG the README shows (what the recipe produces), else its circuit, else its graph."""
        by_name = {figure.file.name: figure for figure in self.figures}
        wanted = [name for name in self.shown if name.endswith(".png")] + ["diagram_circuit.svg", "graph.svg"]
        return next((by_name[name] for name in wanted if name in by_name), None)

    @property
    def extra_diagrams(self):
        """The book's figures (circuit, unrolled, cell) that the README does not show itself."""
        return [f for f in self.figures if f.kind in _DIAGRAMS.values() and f.file.name not in self.shown]

    @property
    def check(self):
        return brief_check(self.entry)

    @property
    def brief_met(self):
        """Whether the last benchmarked brief run met the expectation (None when there was none)."""
        value = self.result["brief"]
        return None if value is None else runner.expectation_line(self.entry, {self.result["metric"]: value})[1]

    @property
    def search_text(self):
        """What the index's search box matches: id, title, summary, task and modality (also with spaces for '_')."""
        text = " ".join([self.id, self.entry["title"], self.entry["summary"], self.entry["task"], self.entry["modality"]]).lower()
        return f"{text} {text.replace('_', ' ')}"

    @property
    def commands(self):
        """[(command, what it does)] for the page's 'Run it' box, the diagram and inspect verbs only where they apply."""
        rid, names = self.id, {f.file.name for f in self.figures}
        found = [
            (f"recipe run {rid} --brief", f"train briefly and check {self.check}"),
            (f"recipe run {rid}", "the full run with DEFAULT_CONFIG"),
            (f"recipe demo {rid}", "the pretrained checkpoint on the test split, and its demo figures"),
            (f"recipe plot {rid}", "the computation graph"),
        ]
        views = [view for view in ("unrolled", "circuit", "cell") if f"diagram_{view}.svg" in names]
        found += [(f"recipe diagram {rid} --view {views[0]}", f"the book's figures (--view {', '.join(views)})")] if views else []
        inspected = [
            f for f in INSPECT_FIGURES if any(n.startswith(f"inspect_{f}") for n in names) or (f == "states" and "diagram_circuit.svg" in names)
        ]
        return found + [(f"recipe inspect {rid} {figure}", f"inside the network: {figure}") for figure in inspected]


def _asset(file):
    """Site path of a copied checkout file: assets/ + its checkout path."""
    return "assets/" + Path(file).relative_to(ROOT).as_posix()


def _source_page(file):
    """Site path of a checkout .py file's highlighted page: its checkout path + .html."""
    return Path(file).relative_to(ROOT).as_posix() + ".html"


@functools.cache
def image_size(path):
    """(width, height) in CSS pixels of a PNG or SVG, read from its header, or None when unknown.

    Given to <img> so that lazily loaded figures keep their place before they load.
    """
    head = Path(path).read_bytes()[:4096]
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")
    found = [re.search(rb'<svg[^>]*?\s%s="([\d.]+)(pt|px)?"' % key, head) for key in (b"width", b"height")]
    if not all(found):
        return None
    return tuple(round(float(m[1]) * (4 / 3 if m[2] == b"pt" else 1)) for m in found)


def _highlight_fence(code, language, attrs):
    """A fenced block in Pygments' colours when it names a language Pygments knows (else '': escaped as is)."""
    try:
        lexer = get_lexer_by_name(language) if language else None
    except ClassNotFound:
        lexer = None
    return highlight(code, lexer, HtmlFormatter(wrapcode=True)) if lexer else ""


def _markdown():
    """CommonMark with tables, ids on h2/h3 (for anchors and the page's contents) and tables that scroll in their box."""
    md = MarkdownIt("commonmark", {"highlight": _highlight_fence}).enable("table").use(anchors_plugin, min_level=2, max_level=3)
    md.add_render_rule("table_open", lambda self, tokens, idx, options, env: '<div class="table-scroll">\n<table>\n')
    md.add_render_rule("table_close", lambda self, tokens, idx, options, env: "</table>\n</div>\n")
    return md


MD = _markdown()


def _plain(inline):
    """The text of an inline token without its Markdown (for the page's contents)."""
    return "".join(child.content for child in inline.children if child.type in ("text", "code_inline"))


def _caption(name):
    """A caption made from a file name: 'inspect_spectrum_lstm.png' -> 'spectrum lstm'."""
    return Path(name).stem.removeprefix("inspect_").removeprefix("diagram_").replace("_", " ")


def _palette_css():
    """The figures' palette (recipes/common/style.py) as CSS custom properties, light and dark."""

    def block(theme, indent):
        lines = []
        for key, value in theme.items():
            pairs = value.items() if isinstance(value, dict) else [("", value)]
            lines += [f"{indent}--{key}{'-' + sub.lower() if sub else ''}: {colour};" for sub, colour in pairs]
        return "\n".join(lines)

    series = "\n".join(f"  --series-{n}: {colour};" for n, colour in enumerate(SERIES))
    return f":root {{\n{series}\n{block(THEMES['light'], '  ')}\n}}\n@media (prefers-color-scheme: dark) {{\n  :root {{\n{block(THEMES['dark'], '    ')}\n  }}\n}}\n"


def stylesheet():
    """The site's one stylesheet: the palette, Pygments' colours per scheme, then tools/site/style.css."""
    light = HtmlFormatter(style=CODE_STYLES["light"]).get_style_defs(".highlight")
    dark = HtmlFormatter(style=CODE_STYLES["dark"]).get_style_defs(".highlight")
    own = (TEMPLATES / "style.css").read_text(encoding="utf-8")
    return f"{_palette_css()}\n{light}\n@media (prefers-color-scheme: dark) {{\n{dark}\n}}\n\n{own}"


def icon():
    """The site's icon (SVG): an unrolled chain of three states in the series colours."""
    dots = "".join(f'<circle cx="{x}" cy="16" r="4.5" fill="{SERIES[n]}" stroke="#fff" stroke-width="2"/>' for x, n in ((7, 1), (16, 2), (25, 4)))
    chain = '<path d="M7 16H25" stroke="#fff" stroke-width="2.5"/>'
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="8" fill="{SERIES[0]}"/>{chain}{dots}</svg>\n'
    )


def _environment():
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(number=results.number, duration=results.minutes, inline=lambda text: Markup(MD.renderInline(text)))
    env.filters["label"] = lambda key: key.replace("_", " ")
    env.globals.update(KINDS=KINDS, PROPERTIES=PROPERTIES, FAMILIES=FAMILIES)
    return env


class _Site:
    """One build: renders pages into `out` and keeps the checkout files the pages link to (copies, source pages)."""

    def __init__(self, out, catalog):
        self.out, self.catalog, self.env = out, catalog, _environment()
        self.copies = set()  # checkout files to copy to their _asset path
        self.sources = set()  # checkout .py files to render at their _source_page path

    def write(self, page, template, **context):
        """Render `template` to the site path `page`; `root` in the template leads back to the site's root."""
        html = self.env.get_template(template).render(root="../" * page.count("/"), page=page, **context)
        path = self.out / page
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(html, encoding="utf-8")

    def site_path(self, target):
        """Where the site shows a checkout file or folder (registering copies and source pages), or None."""
        if target in (ROOT, README):
            return "index.html"
        parts = target.relative_to(ROOT).parts
        if parts[0] == "recipes" and len(parts) >= 2 and parts[1] in self.catalog and (len(parts) == 2 or parts[2:] == ("README.md",)):
            return f"recipes/{parts[1]}.html"
        if target.suffix == ".py":
            self.sources.add(target)
            return _source_page(target)
        if target.is_file():
            self.copies.add(target)
            return _asset(target)
        return None

    def link(self, href, base, page, origin):
        """`href` of a Markdown file in folder `base`, rewritten for the site page `page` (external links unchanged).

        Raises:
            ValueError: it leads to nothing in the checkout, or to a folder the site has no page for.
        """
        parts = urlsplit(href)
        if parts.scheme or parts.netloc or not parts.path:
            return href
        target = (base / unquote(parts.path)).resolve()
        found = target.is_relative_to(ROOT) and target.exists() and self.site_path(target)
        if not found:
            raise ValueError(
                f"{origin}: the link '{href}' leads to {target}, which the gallery cannot show. Link a file of the checkout or a recipe folder."
            )
        fragment = f"#{parts.fragment}" if parts.fragment else ""
        return posixpath.relpath(found, posixpath.dirname(page) or ".") + fragment

    def markdown(self, text, base, page, origin):
        """(HTML, [(anchor, heading)] of its h2 sections, {checkout file: alt text} of its images) of Markdown read in `base`.

        The leading h1 is dropped (the page states the title); images get their size and load lazily.

        Raises:
            ValueError: a link leads nowhere the site can show, or an image comes from the network.
        """
        tokens = MD.parse(text)
        if tokens and tokens[0].type == "heading_open" and tokens[0].tag == "h1":
            del tokens[:3]
        toc = [(token.attrGet("id"), _plain(tokens[n + 1])) for n, token in enumerate(tokens) if token.type == "heading_open" and token.tag == "h2"]
        images = {}
        for child in (child for token in tokens for child in token.children or ()):
            if child.type == "link_open":
                child.attrSet("href", self.link(child.attrGet("href"), base, page, origin))
            elif child.type == "image":
                if urlsplit(child.attrGet("src")).scheme:
                    raise ValueError(
                        f"{origin}: the image '{child.attrGet('src')}' comes from the network; the gallery works offline. Commit the file."
                    )
                file = (base / unquote(child.attrGet("src"))).resolve()
                images.setdefault(file, child.content)
                size = image_size(file) if file.is_file() else None
                child.attrSet("src", self.link(child.attrGet("src"), base, page, origin))
                for key, value in zip(("width", "height"), size or ()):
                    child.attrSet(key, str(value))
                child.attrSet("loading", "lazy")
        return Markup(MD.renderer.render(tokens, MD.options, {})), toc, images

    def recipe(self, recipe_id, result):
        """The Recipe of `recipe_id`: README rendered for recipes/<id>.html, figures found, sources registered."""
        folder = RECIPES_DIR / recipe_id
        recipe = Recipe(recipe_id, self.catalog[recipe_id], result)
        readme, images = folder / "README.md", {}
        if readme.is_file():
            origin = readme.relative_to(ROOT).as_posix()
            recipe.readme, recipe.toc, images = self.markdown(readme.read_text(encoding="utf-8"), folder, f"recipes/{recipe_id}.html", origin)
        recipe.shown = [image.name for image in images if image.parent == folder]
        order = {name: n for n, name in enumerate(recipe.shown)}
        files = sorted((f for f in folder.iterdir() if f.is_file() and kind_of(f.name)), key=lambda f: (order.get(f.name, len(order)), f.name))
        recipe.figures = [Figure(f, kind_of(f.name), images.get(f) or _caption(f.name)) for f in files]
        sounds = sorted(folder.glob("*.wav"))
        self.copies.update([figure.file for figure in recipe.figures] + sounds)
        recipe.sounds = [_asset(path) for path in sounds]
        own = sorted(folder.glob("*.py"))
        shared = [path for path in pretrained.code_files(recipe_id) if path.parent != folder]
        self.sources.update(own + shared)
        recipe.sources = [_source_page(path) for path in own + shared]
        return recipe


def _intro():
    """The project's description: the first paragraph of the top README, as inline HTML."""
    for block in README.read_text(encoding="utf-8").split("\n\n"):
        if block.strip() and not block.lstrip().startswith(("#", "<!--", "```")):
            return Markup(MD.renderInline(" ".join(block.split())))
    return ""


def _prepare(out_dir):
    """`out_dir`, emptied of a previous build and marked as this one's.

    Raises:
        UsageError: it is a file, cannot be written, or is a non-empty folder that no gallery build made.
    """
    out_dir = paths.output_dir(out_dir, []).resolve()  # absolute, so that index.as_uri() works
    if any(out_dir.iterdir()) and not (out_dir / MARKER).is_file():
        raise UsageError(f"--out '{out_dir}' is a folder with other files in it, not a previous gallery. Choose a new or empty folder.")
    for path in out_dir.iterdir():
        shutil.rmtree(path) if path.is_dir() and not path.is_symlink() else path.unlink()
    (out_dir / MARKER).write_text("Built by 'recipe gallery' (tools/gallery.py); the next build replaces this folder.\n", encoding="utf-8")
    return out_dir


def _source(site, file):
    """The highlighted page of a checkout .py file, with a link back to its recipe when it belongs to one."""
    page = _source_page(file)
    parts = file.relative_to(ROOT).parts
    recipe_id = parts[1] if parts[0] == "recipes" and len(parts) == 3 and parts[1] in site.catalog else None
    formatter = HtmlFormatter(linenos="inline", lineanchors="L", anchorlinenos=True, wrapcode=True)
    code = Markup(highlight(file.read_text(encoding="utf-8"), PythonLexer(), formatter))
    title = file.relative_to(ROOT).as_posix()
    site.write(page, "source.html", title=title, code=code, recipe_id=recipe_id, entry=site.catalog.get(recipe_id), section="recipes")


def build(out_dir=SITE_DIR):
    """Build the gallery site into `out_dir` (replacing a previous build there).

    Args:
        out_dir: the folder to write; new, empty, or holding a previous build.

    Returns:
        The Path of its index.html.

    Raises:
        UsageError: `out_dir` is a file, cannot be written, or holds files no gallery build wrote.
        ValueError: a README links to something the site cannot show.
    """
    out = _prepare(out_dir)
    catalog = load_catalog()
    site = _Site(out, catalog)
    rows = results.collect(catalog)
    recipes = [site.recipe(row["id"], row) for row in rows]
    families = [family for family in FAMILIES if any(r.entry["family"] == family for r in recipes)]
    properties = [key for key in PROPERTIES if any(key in r.entry["properties"] for r in recipes)]
    site.write(
        "index.html", "index.html", title="Recipes", section="recipes", recipes=recipes, families=families, properties=properties, intro=_intro()
    )
    for recipe in recipes:
        site.write(f"recipes/{recipe.id}.html", "recipe.html", title=recipe.entry["title"], section="recipes", recipe=recipe)
    atlas = site.site_path(ATLAS) if ATLAS.is_file() else None
    for kind in KINDS:
        shown = [(recipe, figure) for recipe in recipes for figure in recipe.figures if figure.kind == kind.name]
        atlas_here = atlas if kind.name == "circuit" else None
        site.write(f"figures/{kind.name}.html", "figures.html", title=kind.title, section=kind.name, kind=kind, shown=shown, atlas=atlas_here)
    table, _, _ = site.markdown(results.markdown_table(rows), ROOT, "results.html", "the results table")
    site.write("results.html", "results.html", title="Results", section="results", table=table)
    for file in sorted(site.sources):
        _source(site, file)
    for file in sorted(site.copies):
        (out / _asset(file)).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(file, out / _asset(file))
    (out / "assets" / "style.css").write_text(stylesheet(), encoding="utf-8")
    (out / "assets" / "icon.svg").write_text(icon(), encoding="utf-8")
    shutil.copyfile(TEMPLATES / "gallery.js", out / "assets" / "gallery.js")
    return out / "index.html"


CHROMIUM = Path("/usr/bin/chromium")
# Headless in a container or CI: no sandbox, no /dev/shm, no GPU, nothing fetched in the background.
CHROMIUM_ARGS = (
    "--no-sandbox",
    "--disable-dev-shm-usage",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
# (file, page, viewport, colour scheme): the screenshots in docs/screenshots/.
SHOTS = (
    ("index-desktop-light.png", "index.html", (1280, 1300), "light"),
    ("index-desktop-dark.png", "index.html", (1280, 1300), "dark"),
    ("index-phone-light.png", "index.html", (390, 844), "light"),
    ("index-phone-dark.png", "index.html", (390, 844), "dark"),
    ("recipe-memory_task.png", "recipes/memory_task.html", (1280, 1500), "light"),
    ("recipe-seq2seq_attention.png", "recipes/seq2seq_attention.html", (1280, 1500), "dark"),
)


def launch_chromium(playwright):
    """Debian's chromium (/usr/bin/chromium) under Playwright, headless: the browser of the tests and screenshots."""
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=list(CHROMIUM_ARGS))


def screenshots(site_dir=SITE_DIR, out_dir=ROOT / "docs" / "screenshots"):
    """Photograph a built site (see SHOTS) with headless chromium; phones at twice the pixel density.

    Returns:
        The paths written.
    """
    from playwright.sync_api import sync_playwright

    out_dir = paths.output_dir(out_dir, [], force=True)
    written = []
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        for name, page_path, (width, height), scheme in SHOTS:
            phone = width < 600
            page = browser.new_page(
                viewport={"width": width, "height": height}, color_scheme=scheme, device_scale_factor=2 if phone else 1, is_mobile=phone
            )
            page.goto((Path(site_dir) / page_path).as_uri(), wait_until="load")
            page.evaluate("Promise.all(Array.from(document.images, i => { i.loading = 'eager'; return i.decode().catch(() => null); }))")
            page.screenshot(path=out_dir / name)
            written.append(out_dir / name)
            page.close()
        browser.close()
    return written
