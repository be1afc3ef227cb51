"""Benchmark the quality-report pages at 100,000 clips over loopback (goal: under 500 ms).

    .venv/bin/python bench/report_bench.py [--clips 100000] [--repeats 20]

Seeds the same throwaway database as catalog_bench (20 videos, dropped segments in their reports), starts
the web server, logs in and prints p50/p95 times and page sizes for the dataset report (whole, filtered,
another threshold) and one video's report.  The browser then draws about 14 small figures: the page
ships aggregates, never a trace per clip.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.catalog_bench import seeded_session, timed  # noqa: E402
from bench.web_harness import rss_mib  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clips", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args()
    with seeded_session("bench-report-", args.clips) as (session, dataset, server_pid, _):
        base = session.base
        video = int(session.get(f"/datasets/{dataset}/").decode().split('href="/videos/')[1].split("/")[0])
        pages = {
            "dataset report": f"/datasets/{dataset}/report/",
            "dataset report, filtered (score>=40, face>=0.7)": f"/datasets/{dataset}/report/?score_min=40&face_min=0.7",
            "dataset report, threshold 75": f"/datasets/{dataset}/report/?threshold=75",
            f"video report ({args.clips // 20:,} clips)": f"/videos/{video}/report/",
        }
        rss_before = rss_mib(server_pid)
        for name, path in pages.items():
            size = len(session.get(path))
            p50, p95 = timed(session, path, args.repeats)
            print(f"  {name:48s} p50 {p50:6.1f} ms   p95 {p95:6.1f} ms   {size / 1024:6.0f} KiB")
        print(f"server RSS {rss_before:.0f} -> {rss_mib(server_pid):.0f} MiB")
        browser_draw_times(base, pages)


def browser_draw_times(base: str, pages: dict[str, str]) -> None:
    """Headless Chromium: from navigation to every chart drawn (needs the test requirements' Playwright)."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        print("  (Playwright not installed: no browser timings)")
        return
    import shutil

    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, headless=True, args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page(viewport={"width": 1280, "height": 1000})
        page.goto(base + "/accounts/login/")
        page.fill("#id_username", "bench")
        page.fill("#id_password", "bench-password-123")
        page.click("button[type=submit]")
        page.wait_for_load_state()
        for name, path in pages.items():
            first, every = [], []
            for _ in range(3):
                t = time.perf_counter()
                page.goto(base + path)
                # charts are drawn as they come near the screen (static/js/report.js): the first screen, then all
                page.wait_for_function("[...document.querySelectorAll('.chart')].filter(c => "
                                       "c.getBoundingClientRect().top < innerHeight).every(c => c.dataset.ready)")
                first.append((time.perf_counter() - t) * 1000)
                page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
                page.wait_for_function("window.scrollBy(0, 400) || "
                                       "[...document.querySelectorAll('.chart')].every(c => c.dataset.ready)")
                every.append((time.perf_counter() - t) * 1000)
            print(f"  browser, {name:39s} first screen {min(first):6.0f} ms, every chart (scrolled) "
                  f"{min(every):6.0f} ms (best of 3)")
        browser.close()


if __name__ == "__main__":
    main()
