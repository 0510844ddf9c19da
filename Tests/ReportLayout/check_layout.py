#!/usr/bin/python3
"""Renders report pages (HTML or SVG) in Debian's headless Chromium through chromedriver and checks
their layout as a reader sees it:

- no two text boxes overlap (SVG <text> elements and the line boxes of HTML text nodes);
- nothing is clipped: no text outside the viewport's width (no horizontal scrolling), outside its
  SVG canvas, outside the page's <main> panel, or outside an ancestor that hides overflow;
- plot text (legends, tick labels, titles) stays off the data areas (`.plot-area` rects), except notes;
- the page logs no error to the console and fetches nothing (self-contained: no resource entries).

Saves a full-page PNG screenshot of each page next to the reports (or into --shots).
Usage: check_layout.py [--shots DIR] [--width PX] PAGE...
Prints one line per page and a closing "N passed, N failed"; exits 1 if any page failed.
"""
import argparse
import os
import sys

from selenium import webdriver
from selenium.webdriver.chrome.service import Service

PROBE = r"""
const out = {texts: [], problems: [], resources: performance.getEntriesByType('resource').map(e => e.name)};
const vw = document.documentElement.clientWidth;
if (document.documentElement.scrollWidth > vw + 1)
  out.problems.push(`page is wider (${document.documentElement.scrollWidth}px) than the viewport (${vw}px)`);
const main = document.querySelector('main');
const mainBox = main ? main.getBoundingClientRect() : null;
const boxes = [];
function label(node, text) {
  const el = node.nodeType === 1 ? node : node.parentElement;
  const cls = el.getAttribute('class') || '';
  return `${el.tagName.toLowerCase()}${cls ? '.' + cls : ''} "${text.slice(0, 40)}"`;
}
function clippers(el) {
  const list = [];
  for (let a = el.parentElement; a && a !== document.body; a = a.parentElement) {
    const s = getComputedStyle(a);
    if (s.overflowX !== 'visible' || s.overflowY !== 'visible') list.push(a);
  }
  return list;
}
function inside(b, r, tol) {
  return b.left >= r.left - tol && b.right <= r.right + tol && b.top >= r.top - tol && b.bottom <= r.bottom + tol;
}
function overlaps(a, b, tol) {
  return Math.min(a.right, b.right) - Math.max(a.left, b.left) > tol && Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top) > tol;
}
// SVG text elements.
const plotAreas = new Map();
for (const svg of document.querySelectorAll('svg')) {
  plotAreas.set(svg, Array.from(svg.querySelectorAll('.plot-area')).map(r => r.getBoundingClientRect()));
}
for (const t of document.querySelectorAll('svg text')) {
  const text = t.textContent.trim();
  if (!text) continue;
  const b = t.getBoundingClientRect();
  const svg = t.ownerSVGElement;
  const item = {b, what: label(t, text), el: t, svg};
  boxes.push(item);
  const canvas = svg.getBoundingClientRect();
  if (!inside(b, canvas, 0.5)) out.problems.push(`${item.what} is clipped by its SVG canvas`);
  const cls = t.getAttribute('class') || '';
  if (!cls.includes('note')) {
    for (const area of plotAreas.get(svg)) {
      if (overlaps(b, area, 0.5)) { out.problems.push(`${item.what} is drawn on a data area`); break; }
    }
  }
}
// HTML text nodes: one box per rendered line.
const walker = document.createTreeWalker(document.body || document.documentElement, NodeFilter.SHOW_TEXT);
for (let n = walker.nextNode(); n; n = walker.nextNode()) {
  if (!n.textContent.trim() || n.parentElement.closest('svg, style, script, title')) continue;
  const range = document.createRange();
  range.selectNodeContents(n);
  const rects = Array.from(range.getClientRects()).filter(r => r.width > 0.5 && r.height > 0.5);
  rects.forEach((b, i) => boxes.push({b, what: label(n, n.textContent.trim()), el: n.parentElement, node: n, line: i}));
}
for (const item of boxes) {
  const b = item.b;
  if (b.left < -0.5 || b.right > vw + 0.5) out.problems.push(`${item.what} is clipped by the viewport`);
  if (mainBox && !inside(b, {left: mainBox.left, right: mainBox.right, top: -1e9, bottom: 1e9}, 0.5))
    out.problems.push(`${item.what} sticks out of its panel (main)`);
  for (const c of clippers(item.el)) {
    if (!inside(b, c.getBoundingClientRect(), 0.5)) { out.problems.push(`${item.what} is clipped by ${c.tagName.toLowerCase()}`); break; }
  }
}
// Pairwise overlap (sorted by top so the inner loop stops early).
boxes.sort((x, y) => x.b.top - y.b.top);
for (let i = 0; i < boxes.length; i++) {
  for (let j = i + 1; j < boxes.length && boxes[j].b.top < boxes[i].b.bottom; j++) {
    if (boxes[i].node && boxes[i].node === boxes[j].node) continue;
    if (overlaps(boxes[i].b, boxes[j].b, 1)) out.problems.push(`${boxes[i].what} overlaps ${boxes[j].what}`);
  }
}
out.count = boxes.length;
out.height = Math.ceil(Math.max(document.documentElement.scrollHeight, document.documentElement.getBoundingClientRect().bottom, document.body ? document.body.scrollHeight : 0));
return out;
"""


def viewport(driver, width, height):
    """Sets the page's viewport (not the window's outer size) to exactly width × height CSS pixels."""
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False})


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--shots", help="directory for the PNG screenshots (default: beside each page)")
    ap.add_argument("--width", type=int, default=1280)
    ap.add_argument("pages", nargs="+")
    args = ap.parse_args()

    opts = webdriver.ChromeOptions()
    opts.binary_location = "/usr/bin/chromium"
    for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--hide-scrollbars",
              "--force-device-scale-factor=1", f"--window-size={args.width},1000"):
        opts.add_argument(a)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=opts)
    passed = failed = 0
    try:
        for page in args.pages:
            path = os.path.abspath(page)
            viewport(driver, args.width, 1000)
            driver.get("file://" + path)
            r = driver.execute_script(PROBE)
            problems = list(r["problems"])
            problems += [f"fetched {u} (the page must be self-contained)" for u in r["resources"]]
            for entry in driver.get_log("browser"):
                if entry.get("level") in ("SEVERE", "WARNING"):
                    problems.append(f"console {entry['level']}: {entry.get('message')}")
            if r["count"] == 0:
                problems.append("no text rendered")
            # A full-page screenshot: the window as tall as the document.
            viewport(driver, args.width, min(max(r["height"], 400), 16000))
            base = os.path.splitext(os.path.basename(path))[0]
            parent = os.path.basename(os.path.dirname(path))
            shots = args.shots or os.path.dirname(path)
            os.makedirs(shots, exist_ok=True)
            png = os.path.join(shots, f"{parent}-{base}-{args.width}.png")
            driver.save_screenshot(png)
            if problems:
                failed += 1
                print(f"FAIL {page}: {len(problems)} layout problem(s) in {r['count']} text boxes; screenshot {png}")
                for p in problems[:40]:
                    print(f"    {p}")
                if len(problems) > 40:
                    print(f"    … {len(problems) - 40} more")
            else:
                passed += 1
                print(f"PASS {page}: {r['count']} text boxes, no overlap, nothing clipped, no console error; screenshot {png}")
    finally:
        driver.quit()
    print(f"report layout: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
