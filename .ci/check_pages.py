#!/usr/bin/env python3
"""Open every page of the built book in a headless Chromium with NO network, and check what a reader sees.

    python .ci/check_pages.py _build/html

For every page listed in _toc.yml (not genindex/search), at window widths 1280 px and 390 px:

  numbering  the <h1>, the section headings and the sidebar entries carry their number once
             ("2. Monoids", never "2. 2. Monoids": _toc.yml numbers the chapters, the heading must not)
  mathjax    MathJax (served with the book) has typeset every formula: no raw TeX left in the text,
             no formula left untypeset, no MathJax error, no literal backslash in typeset output
             (`\\text{max\\_phase}` renders a visible "\\_": write `\\text{max_phase}` or `\\mathrm{max\\_phase}`)
  images     every image loads and has real alt text (not empty, not the image's file path, which is
             what myst-nb writes for a cell's figure unless the cell sets one)
  overflow   the page and the article column do not scroll sideways (wide code and outputs scroll
             inside their own box)
  colab      on a notebook page, the launch menu's Colab link and the badge in the first markdown cell
             both open this page's notebook: <colab_url>/github/<org>/<repo>/blob/<branch>/<path>.ipynb,
             derived from _config.yml
  offline    no request leaves file:// (the book must work in a classroom with no network), and no
             file the page asks for is missing; the one exception is the Open-in-Colab badge image
             (ONLINE_ONLY_IMAGES): its link needs the network anyway, and offline it shows its alt text

Screenshots of a few chapters at both widths go to <html dir>/../screenshots/ (PNG).
Prints every failure as `FAIL <page> [<check>] <detail>` and a one-line summary; exit status 1 on any
failure, 2 when the browser or the book can't be found.

The browser: Debian's chromium + chromium-driver (`apt-get install -y chromium chromium-driver`), driven
by Selenium with the chromedriver path given explicitly, so Selenium Manager never runs (it would try to
download a driver). Its network is cut three ways: every host name resolves to nothing
(--host-resolver-rules), every http(s) request goes to a dead proxy (that covers literal IP addresses),
and DevTools blocks http/https/ws URLs; on top of that every request the page makes is read back from
the DevTools log and any that is not file:/data:/blob: is a failure.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import sys
import time
from pathlib import Path
from urllib.parse import unquote, urlparse

WIDTHS = (1280, 390)
HEIGHT = 900
SCREENSHOT_PAGES = ("book/03_scans", "book/08_lru", "book/16_reproducing")
SCREENSHOT_MAX_HEIGHT = 12000  # px; the full page up to this height
# Online-only images that may fail offline: the Open-in-Colab badge is an image from Colab's site, and the
# link it sits on needs the network anyway. Offline the badge shows its alt text ("Open In Colab").
ONLINE_ONLY_IMAGES = ("https://colab.research.google.com/assets/colab-badge.svg",)
LOCAL_SCHEMES = ("file", "data", "blob", "about", "chrome", "devtools")
MATHJAX_START_TIMEOUT_S = 20

# "2. 2. Monoids", "3.1. 3.1 Serial scan": a section number followed by another number prefix ("2." or "3.1");
# "16. 100 steps" is not one
DOUBLED_NUMBER = re.compile(r"^\s*\d+(?:\.\d+)*\.?\s+(?:\d+(?:\.\d+)+\.?|\d+[.:)])(?:\s|$)")

# --------------------------------------------------------------------------------------------------------
# The page-side collector: one async script per page load; returns plain JSON.
COLLECT_JS = r"""
const done = arguments[arguments.length - 1];
const opts = arguments[0];
const sleep = ms => new Promise(r => setTimeout(r, ms));
const withTimeout = (p, ms, what) => Promise.race([p, sleep(ms).then(() => { throw new Error(what + ' timed out'); })]);
const clean = s => (s || '').replace(/\s+/g, ' ').trim();
const headingText = h => { const c = h.cloneNode(true); c.querySelectorAll('.headerlink').forEach(e => e.remove()); return clean(c.textContent); };

function cellOf(el) {
  const cell = el.closest('div.cell');
  if (!cell) return '';
  const cells = [...document.querySelectorAll('div.cell')];
  const src = cell.querySelector('.cell_input pre');
  const first = src ? src.textContent.split('\n').find(l => l.trim()) || '' : '';
  return 'code cell ' + (cells.indexOf(cell) + 1) + ' of ' + cells.length + (first ? ' (' + JSON.stringify(first.trim().slice(0, 60)) + ')' : '');
}

(async () => {
  const out = {errors: []};
  try {
    // ---- numbering
    const art = document.querySelector('article.bd-article') || document.querySelector('main') || document.body;
    out.h1 = [...document.querySelectorAll('h1')].map(headingText);
    out.headings = [...art.querySelectorAll('h2, h3, h4, h5, h6')].map(h => [h.tagName.toLowerCase(), headingText(h)]);
    out.sidebar = [...document.querySelectorAll('nav.bd-docs-nav a, .bd-sidebar-primary nav a.reference')]
      .map(a => [a.href.split('#')[0], clean(a.textContent)]);

    // ---- MathJax: wait for it to load and typeset, then look at what it made
    const mjScripts = [...document.querySelectorAll('script[src]')].map(s => s.src).filter(s => /mathjax/i.test(s));
    const mathEls = [...document.querySelectorAll('.math')];
    out.mathjax = {scripts: mjScripts, formulas: mathEls.length};
    if (mjScripts.length) {
      const t0 = Date.now();
      while (!(window.MathJax && MathJax.startup && MathJax.startup.promise)) {
        // defer scripts run before 'complete': once complete, a MathJax that is not there never loaded
        if (document.readyState === 'complete' && Date.now() - t0 > 1000) break;
        if (Date.now() - t0 > opts.mathjaxTimeoutMs) break;
        await sleep(25);
      }
      if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
        await withTimeout(MathJax.startup.promise, opts.mathjaxTimeoutMs, 'MathJax typesetting');
        out.mathjax.version = MathJax.version;
        out.mathjax.started = true;
      } else {
        out.mathjax.started = false;
      }
    }
    await withTimeout(document.fonts.ready, 10000, 'fonts');
    out.mathjax.containers = document.querySelectorAll('mjx-container').length;
    out.mathjax.untypeset = mathEls.filter(e => !e.querySelector('mjx-container')).map(e => clean(e.textContent).slice(0, 120));
    out.mathjax.merrors = [];
    out.mathjax.fontsFailed = [...document.fonts].filter(f => f.status === 'error').map(f => f.family);
    // literal backslashes in the typeset output (an unprocessed TeX escape such as \_ inside \text{})
    const backslashed = [];
    const tokenRe = /<(mi|mo|mn|mtext|ms)\b[^>]*>([^<]*)<\/\1>/g;
    const texEscape = /\\[A-Za-z_{}%&#$^~]/;
    if (window.MathJax && MathJax.startup && MathJax.startup.document && MathJax.startup.toMML) {
      for (const item of MathJax.startup.document.math) {
        let mml = '';
        try { mml = MathJax.startup.toMML(item.root); } catch (e) { continue; }
        if (/<merror/.test(mml)) {
          const m = mml.match(/data-mjx-error="([^"]*)"/);
          out.mathjax.merrors.push({tex: clean(item.math).slice(0, 100), msg: m ? m[1] : 'error'});
          continue;
        }
        for (const m of mml.matchAll(tokenRe)) {
          if (texEscape.test(m[2])) { backslashed.push({tex: clean(item.math).slice(0, 100), shown: m[2]}); break; }
        }
      }
    } else {
      out.mathjax.merrors = [...document.querySelectorAll('mjx-merror, [data-mjx-error]')]
        .map(e => ({tex: '', msg: clean(e.getAttribute('data-mjx-error') || e.textContent).slice(0, 120)}));
      for (const c of document.querySelectorAll('mjx-assistive-mml')) {
        if (texEscape.test(c.textContent)) backslashed.push({tex: '', shown: clean(c.textContent).slice(0, 100)});
      }
    }
    out.mathjax.backslashed = backslashed;
    // raw TeX left in the text (outside code and outside typeset math)
    const raw = [];
    const skip = 'pre, code, kbd, samp, script, style, textarea, mjx-container, .highlight, .cell_input, .math';
    const rawRe = /\\\(|\\\)|\\\[|\\\]|\$\$|\\begin\{|\$[^$\n]*\\[A-Za-z]+[^$\n]*\$/;
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      const p = n.parentElement;
      if (!p || p.closest(skip)) continue;
      const m = n.textContent.match(rawRe);
      if (m) {
        const i = m.index, t = n.textContent;
        raw.push(clean(t.slice(Math.max(0, i - 30), i + 60)));
      }
    }
    out.mathjax.raw = raw;

    // ---- images: make lazy ones eager, wait for every image to settle
    const imgs = [...document.images];
    imgs.forEach(i => { if (i.loading === 'lazy') i.loading = 'eager'; });
    await withTimeout(Promise.all(imgs.filter(i => !i.complete).map(i => new Promise(r => {
      i.addEventListener('load', r, {once: true}); i.addEventListener('error', r, {once: true});
    }))), 15000, 'images').catch(e => out.errors.push(String(e)));
    out.images = imgs.map(i => ({
      src: i.getAttribute('src') || '', url: i.currentSrc || i.src, alt: i.getAttribute('alt'),
      complete: i.complete, naturalWidth: i.naturalWidth,
      decorative: i.getAttribute('role') === 'presentation' || i.getAttribute('aria-hidden') === 'true',
      where: cellOf(i),
    }));

    // ---- Colab links
    const colab = opts.colabBase;
    out.launch = [...document.querySelectorAll('.dropdown-launch-buttons a, .launch-buttons a')]
      .map(a => a.href).filter(h => h.startsWith(colab));
    const firstCell = document.querySelector('div.cell');
    out.badges = [...art.querySelectorAll('a')].filter(a => a.querySelector('img') &&
        (a.href.startsWith(colab) || [...a.querySelectorAll('img')].some(i => /colab-badge/.test(i.src))))
      .map(a => ({href: a.href, beforeFirstCell: !firstCell || !!(a.compareDocumentPosition(firstCell) & Node.DOCUMENT_POSITION_FOLLOWING)}));
  } catch (e) {
    out.errors.push(String(e && e.stack || e));
  }
  done(out);
})();
"""

OVERFLOW_JS = r"""
const done = arguments[arguments.length - 1];
requestAnimationFrame(() => requestAnimationFrame(() => {
  const tol = 2;
  const boxes = {
    'page': document.scrollingElement || document.documentElement,
    'main column': document.querySelector('main.bd-main') || document.querySelector('main'),
    'article container': document.querySelector('.bd-article-container'),
    'article': document.querySelector('article.bd-article'),
  };
  const wide = [];
  for (const [name, el] of Object.entries(boxes)) {
    if (el && el.scrollWidth > el.clientWidth + tol) wide.push({box: name, scrollWidth: el.scrollWidth, clientWidth: el.clientWidth});
  }
  // what sticks out: the outermost elements whose right edge passes the article's (or the window's) edge
  // and that no scrolling box in between clips
  const culprits = [];
  if (wide.length) {
    const art = document.querySelector('article.bd-article') || document.body;
    const limit = Math.min(art.getBoundingClientRect().right, document.documentElement.clientWidth) + tol;
    const scrolls = el => ['auto', 'scroll', 'hidden', 'clip'].includes(getComputedStyle(el).overflowX);
    const seen = new Set();
    for (const el of art.querySelectorAll('*')) {
      const r = el.getBoundingClientRect();
      if (r.width === 0) continue;
      // an element that sticks out itself, or whose own text spills out of it (a pre that does not scroll)
      const spills = getComputedStyle(el).overflowX === 'visible' && el.scrollWidth > el.clientWidth + tol
        && r.left + el.scrollWidth > limit && [...el.children].every(c => c.getBoundingClientRect().right <= limit);
      if (r.right <= limit && !spills) continue;
      let clipped = false, reported = false;
      for (let p = el.parentElement; p && p !== art; p = p.parentElement) {
        if (seen.has(p)) { reported = true; break; }
        if (scrolls(p)) { clipped = true; break; }
      }
      if (clipped || reported) continue;
      seen.add(el);
      const cell = el.closest('div.cell');
      const cells = [...document.querySelectorAll('div.cell')];
      const cls = [...el.classList].slice(0, 3).map(c => '.' + c).join('');
      culprits.push({what: el.tagName.toLowerCase() + cls, width: Math.round(Math.max(r.width, el.scrollWidth)),
        right: Math.round(Math.max(r.right, r.left + el.scrollWidth)),
        limit: Math.round(limit), cell: cell ? cells.indexOf(cell) + 1 : 0,
        text: (el.textContent || '').replace(/\s+/g, ' ').trim().slice(0, 60)});
      if (culprits.length >= 8) break;
    }
  }
  done({wide, culprits, height: Math.max(document.documentElement.scrollHeight, document.body.scrollHeight)});
}));
"""


# --------------------------------------------------------------------------------------------------------
def fail_setup(msg: str) -> None:
    print(f"check_pages: {msg}", file=sys.stderr)
    sys.exit(2)


def toc_pages(toc: dict) -> list[str]:
    pages = [toc["root"]]

    def walk(entries):
        for e in entries or []:
            if "file" in e:
                pages.append(e["file"])
            walk(e.get("sections"))
            walk(e.get("chapters"))

    for part in toc.get("parts", []):
        walk(part.get("chapters"))
    walk(toc.get("chapters"))
    walk(toc.get("sections"))
    return [re.sub(r"\.(ipynb|md|rst)$", "", p) for p in pages]


def colab_expectation(cfg: dict):
    repo = cfg.get("repository", {}) or {}
    m = re.match(r"https?://github\.com/([^/]+)/([^/]+?)(?:\.git)?/?$", repo.get("url", ""))
    if not m:
        fail_setup(f"_config.yml repository.url is not a GitHub repository: {repo.get('url')!r}")
    org, name = m.groups()
    branch = repo.get("branch") or "main"
    path_to_book = (repo.get("path_to_book") or "").strip("/")
    colab = ((cfg.get("launch_buttons", {}) or {}).get("colab_url") or "https://colab.research.google.com").rstrip("/")

    def expected(docname: str) -> str:
        path = f"{path_to_book}/{docname}" if path_to_book else docname
        return f"{colab}/github/{org}/{name}/blob/{branch}/{path}.ipynb"

    return colab, expected


def find_browser() -> tuple[str, str]:
    chrome = os.environ.get("CHROME_BIN") or next(
        (p for p in (shutil.which(n) for n in ("chromium", "chromium-browser")) if p), None)
    driver = os.environ.get("CHROMEDRIVER") or shutil.which("chromedriver") or "/usr/bin/chromedriver"
    missing = [what for what, p in (("chromium", chrome), ("chromedriver", driver)) if not p or not Path(p).is_file()]
    if missing:
        fail_setup(f"{' and '.join(missing)} not found: install Debian's browser with "
                   "`apt-get update && apt-get install -y chromium chromium-driver` "
                   "(or set CHROME_BIN / CHROMEDRIVER)")
    return chrome, driver


def start_browser(chrome: str, driver_path: str):
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        fail_setup("the Python package selenium is missing: pip install -r requirements.txt")
    os.environ["SE_OFFLINE"] = "true"  # belt and braces: Selenium Manager is skipped anyway (paths are given)
    opts = webdriver.ChromeOptions()
    opts.binary_location = chrome
    for a in (
        "--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
        "--host-resolver-rules=MAP * ~NOTFOUND",      # no name resolves
        "--proxy-server=127.0.0.1:9", "--proxy-bypass-list=<-loopback>",  # no http(s), literal IPs included
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--disable-default-apps", "--no-first-run", "--no-default-browser-check",
        "--hide-scrollbars", "--force-device-scale-factor=1", f"--window-size={WIDTHS[0]},{HEIGHT}",
    ):
        opts.add_argument(a)
    opts.set_capability("goog:loggingPrefs", {"performance": "ALL"})
    opts.set_capability("pageLoadStrategy", "normal")
    drv = webdriver.Chrome(service=Service(executable_path=driver_path), options=opts)
    drv.set_script_timeout(120)
    drv.set_page_load_timeout(60)
    drv.execute_cdp_cmd("Network.enable", {})
    drv.execute_cdp_cmd("Network.setBlockedURLs", {"urls": ["http://*", "https://*", "ws://*", "wss://*", "ftp://*"]})
    return drv


def set_width(drv, width: int) -> None:
    drv.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                        {"width": width, "height": HEIGHT, "deviceScaleFactor": 1, "mobile": False})


def screenshot(drv, path: Path, width: int, height: int) -> None:
    """The page from the top, up to SCREENSHOT_MAX_HEIGHT: the window is made that tall for the shot (Chrome's
    captureBeyondViewport lays the page out again, which shifted the sticky sidebars), then put back."""
    import base64
    h = max(HEIGHT, min(height, SCREENSHOT_MAX_HEIGHT))
    drv.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                        {"width": width, "height": h, "deviceScaleFactor": 1, "mobile": False})
    drv.execute_script("window.scrollTo(0, 0)")
    time.sleep(0.5)  # let the resized page paint
    shot = drv.execute_cdp_cmd("Page.captureScreenshot", {"format": "png"})
    path.write_bytes(base64.b64decode(shot["data"]))
    set_width(drv, width)


def drain_requests(drv) -> tuple[list[str], list[tuple[str, str]]]:
    """Requests the page made since the last call: (urls, [(url, error)] of failed loads)."""
    urls, failed, by_id = [], [], {}
    for entry in drv.get_log("performance"):
        msg = json.loads(entry["message"])["message"]
        method, p = msg.get("method"), msg.get("params", {})
        if method == "Network.requestWillBeSent":
            url = p["request"]["url"]
            by_id[p["requestId"]] = url
            urls.append(url)
        elif method == "Network.loadingFailed" and not p.get("canceled"):
            failed.append((by_id.get(p["requestId"], "?"), p.get("errorText", "") + (
                f" ({p['blockedReason']})" if p.get("blockedReason") else "")))
    return urls, failed


def short(url: str, html: Path) -> str:
    if url.startswith("file://"):
        try:
            return Path(unquote(urlparse(url).path)).relative_to(html).as_posix()
        except ValueError:
            return unquote(urlparse(url).path)
    return url


def is_default_alt(alt: str, src: str) -> bool:
    a = alt.strip()
    base = src.split("?")[0].rsplit("/", 1)[-1]
    return (a == src or a == base or "_images/" in a or "/" in a and a.split("?")[0].rsplit("/", 1)[-1] == base
            or re.search(r"\.(png|jpe?g|gif|svg|webp)$", a, re.I) is not None)


# --------------------------------------------------------------------------------------------------------
def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("html", type=Path, help="the built book, e.g. _build/html")
    ap.add_argument("--book", type=Path, default=Path(__file__).resolve().parent.parent,
                    help="the book's root (with _config.yml and _toc.yml); default: this repository")
    ap.add_argument("--screenshots", type=Path, default=None,
                    help="where screenshots go; default: <html>/../screenshots")
    ap.add_argument("--screenshot-pages", default=",".join(SCREENSHOT_PAGES),
                    help="comma-separated docnames to photograph at both widths ('' for none)")
    args = ap.parse_args()
    t_start = time.monotonic()

    import yaml

    html = args.html.resolve()
    if not (html / "index.html").is_file():
        fail_setup(f"{html}/index.html not found: build the book first (jupyter-book build . -W -n --keep-going)")
    cfg = yaml.safe_load((args.book / "_config.yml").read_text())
    toc = yaml.safe_load((args.book / "_toc.yml").read_text())
    pages = toc_pages(toc)
    colab_base, expected_colab = colab_expectation(cfg)
    shots_dir = (args.screenshots or html.parent / "screenshots").resolve()
    shot_pages = {p.strip() for p in args.screenshot_pages.split(",") if p.strip()}
    if shot_pages:
        shots_dir.mkdir(parents=True, exist_ok=True)

    failures: list[tuple[str, str, str]] = []

    def fail(page: str, check: str, detail: str) -> None:
        failures.append((page, check, detail))

    page_of_url = {(html / f"{p}.html").as_uri(): p for p in pages}
    sidebar_texts: dict[str, set[str]] = {}
    notes: dict[str, int] = {}
    mathjax_versions: set[str] = set()
    shots: list[Path] = []

    chrome, driver_path = find_browser()
    drv = start_browser(chrome, driver_path)
    try:
        for doc in pages:
            try:
                page = f"{doc}.html"
                path = html / page
                if not path.is_file():
                    fail(page, "build", "page not built (listed in _toc.yml)")
                    continue
                drain_requests(drv)  # forget the previous page's requests
                set_width(drv, WIDTHS[0])
                drv.get(path.as_uri())
                data = drv.execute_async_script(COLLECT_JS, {"colabBase": colab_base,
                                                             "mathjaxTimeoutMs": MATHJAX_START_TIMEOUT_S * 1000})
                for e in data.get("errors", []):
                    fail(page, "browser", f"the page check itself failed: {e}")

                # ---- numbering
                for h in data.get("h1", []):
                    if DOUBLED_NUMBER.match(h):
                        fail(page, "numbering", f"<h1> reads {h!r}: the chapter number is repeated "
                                                "(_toc.yml numbers the chapter; the notebook's heading should not)")
                for tag, h in data.get("headings", []):
                    if DOUBLED_NUMBER.match(h):
                        fail(page, "numbering", f"<{tag}> reads {h!r}: the section number is repeated")
                for href, text in data.get("sidebar", []):
                    target = page_of_url.get(href)
                    if target:
                        sidebar_texts.setdefault(target, set()).add(text)

                # ---- MathJax
                mj = data.get("mathjax", {})
                if mj.get("formulas") and not mj.get("scripts"):
                    fail(page, "mathjax", f"{mj['formulas']} formulas but the page loads no MathJax")
                for s in mj.get("scripts", []):
                    if not s.startswith("file:"):
                        fail(page, "mathjax", f"MathJax is loaded from the network ({s}): offline no formula typesets")
                if mj.get("scripts") and not mj.get("started"):
                    fail(page, "mathjax", "MathJax did not start (its script did not load): formulas stay raw TeX")
                if mj.get("version"):
                    mathjax_versions.add(mj["version"])
                untypeset = mj.get("untypeset", [])
                if untypeset and (len(untypeset) == mj.get("formulas") or not mj.get("started")):
                    examples = ", ".join(repr(t) for t in untypeset[:3])
                    fail(page, "mathjax", f"all {len(untypeset)} formulas stay raw TeX, e.g. {examples}")
                else:
                    for tex in untypeset:
                        fail(page, "mathjax", f"formula not typeset: {tex!r}")
                for err in mj.get("merrors", []):
                    hint = (" (Sphinx wraps display math that contains \\\\ in a split environment: number the "
                            "equation with a label instead of \\tag, or use \\begin{equation}...)"
                            if "split" in err["msg"] else "")
                    fail(page, "mathjax", f"MathJax error {err['msg']!r}" + (f" in TeX {err['tex']!r}" if err["tex"] else "")
                         + hint)
                for b in mj.get("backslashed", []):
                    fail(page, "mathjax", f"typeset formula shows a literal backslash {b['shown']!r}"
                                          + (f" (TeX: {b['tex']!r})" if b["tex"] else "")
                                          + ": inside \\text{} write _ not \\_ (or use \\mathrm{})")
                for r in mj.get("raw", []):
                    fail(page, "mathjax", f"raw TeX in the text: {r!r}")
                for f in mj.get("fontsFailed", []):
                    fail(page, "mathjax", f"font {f!r} failed to load")

                # ---- images
                for im in data.get("images", []):
                    src, alt, where = im["src"], im["alt"], im["where"]
                    loc = f"{short(im['url'], html)}" + (f" in {where}" if where else "")
                    if im["url"] in ONLINE_ONLY_IMAGES:
                        notes["online-only Colab badge image (shows its alt text offline)"] = notes.get(
                            "online-only Colab badge image (shows its alt text offline)", 0) + 1
                    elif not im["url"].startswith(("file:", "data:", "blob:")):
                        fail(page, "images", f"image from the network, cannot load offline: {loc}")
                    elif not (im["complete"] and im["naturalWidth"] > 0):
                        fail(page, "images", f"image does not load: {loc}")
                    if im["decorative"]:
                        continue
                    if alt is None:
                        fail(page, "images", f"no alt text: {loc}")
                    elif not alt.strip():
                        fail(page, "images", f"empty alt text: {loc}")
                    elif is_default_alt(alt, src):
                        fail(page, "images", f"alt text is the image's file path (myst-nb's default; describe the "
                                             f"figure in the cell's metadata, mystnb: image: alt: ...): {loc}")

                # ---- Colab
                if (args.book / f"{doc}.ipynb").is_file():
                    want = expected_colab(doc)
                    launch = data.get("launch", [])
                    if not launch:
                        fail(page, "colab", "no Colab link in the launch (rocket) menu")
                    for h in launch:
                        if h != want:
                            fail(page, "colab", f"launch menu's Colab link is {h}, expected {want}")
                    badges = data.get("badges", [])
                    if not badges:
                        fail(page, "colab", "no Open-in-Colab badge in the first markdown cell")
                    else:
                        if not badges[0]["beforeFirstCell"]:
                            fail(page, "colab", "the Open-in-Colab badge is not in the first markdown cell")
                        # beside it, the student edition's badge: student/NN_name.ipynb (tools/student_edition.py)
                        student = want.replace("/book/", "/student/")
                        for b in badges:
                            if b["href"] not in (want, student):
                                fail(page, "colab", f"Open-in-Colab badge links to {b['href']}, expected {want} "
                                                    f"or the student edition {student}")
                        # a chapter has a student edition; a page such as the course plan has not
                        edition = args.book / f"{doc}.ipynb".replace("book/", "student/", 1)
                        expected = [want, student] if edition.is_file() else [want]
                        if [b["href"] for b in badges] != expected:
                            fail(page, "colab", "expected the Colab badges " + ", then ".join(expected))

                # ---- overflow (and screenshots), at each width
                for i, w in enumerate(WIDTHS):
                    if i:
                        set_width(drv, w)
                    ov = drv.execute_async_script(OVERFLOW_JS)
                    if ov["wide"]:
                        boxes = ", ".join(f"{b['box']} ({b['scrollWidth']}px content in {b['clientWidth']}px)"
                                          for b in ov["wide"])
                        why = "; ".join(
                            f"{c['what']} {c['width']}px wide, right edge at {c['right']}px > {c['limit']}px"
                            + (f" in code cell {c['cell']}" if c["cell"] else "")
                            + (f" {c['text']!r}" if c["text"] else "")
                            for c in ov["culprits"][:4]) or "no single element found"
                        fail(page, "overflow", f"at {w}px these scroll sideways: {boxes}; sticking out: {why}")
                    if doc in shot_pages:
                        out = shots_dir / f"{doc.rsplit('/', 1)[-1]}-{w}.png"
                        screenshot(drv, out, w, ov["height"])
                        shots.append(out)

                # ---- offline: what the page asked for
                urls, failed = drain_requests(drv)
                for u in sorted(set(urls)):
                    scheme = u.split(":", 1)[0].lower()
                    if scheme not in LOCAL_SCHEMES and u not in ONLINE_ONLY_IMAGES:
                        fail(page, "offline", f"request leaves the machine: {u}")
                for u, err in failed:
                    if u.startswith("file:"):
                        fail(page, "offline", f"missing file {short(u, html)}: {err}")
            except Exception as exc:  # one page's trouble (a crashed tab, a timeout) must not hide the rest
                first_line = (str(exc).splitlines() or [""])[0]
                fail(f"{doc}.html", "browser", f"checking the page failed: {type(exc).__name__}: {first_line}")
    finally:
        drv.quit()

    # sidebar entries, one report per chapter (the same sidebar is on every page)
    for target in pages:
        for text in sorted(sidebar_texts.get(target, ())):
            if DOUBLED_NUMBER.match(text):
                fail(f"{target}.html", "numbering", f"sidebar entry reads {text!r}: the number is repeated")

    order = {p: i for i, p in enumerate(f"{d}.html" for d in pages)}
    failures.sort(key=lambda f: (order.get(f[0], 1e9), f[1]))
    for page, check, detail in failures:
        print(f"FAIL {page} [{check}] {detail}")
    for note, n in notes.items():
        print(f"note: {note}: {n} on {len(pages)} pages")
    if shots:
        print(f"screenshots: {', '.join(str(s) for s in shots)}")
    by_check: dict[str, int] = {}
    for _, check, _ in failures:
        by_check[check] = by_check.get(check, 0) + 1
    bad_pages = len({f[0] for f in failures})
    secs = time.monotonic() - t_start
    mj = ", MathJax " + "/".join(sorted(mathjax_versions)) if mathjax_versions else ""
    if failures:
        kinds = ", ".join(f"{k} {v}" for k, v in sorted(by_check.items()))
        print(f"check_pages: FAILED: {len(failures)} failures on {bad_pages} of {len(pages)} pages ({kinds}); "
              f"widths {'/'.join(map(str, WIDTHS))}px{mj}; {secs:.1f} s")
        return 1
    print(f"check_pages: OK: {len(pages)} pages at {'/'.join(map(str, WIDTHS))}px, all checks passed{mj}; {secs:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
