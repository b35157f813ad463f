#!/usr/bin/env python3
"""Reads a page that chromium --dump-dom wrote (stdin) and prints what
scg-report's page shows as one JSON object: the cards (data-stat -> text),
the counts shown, the rows in the list, the record in view, the charts and
the filters' options. The tests compare it with scg-stats --json."""
import json
import sys
from html.parser import HTMLParser


class Page(HTMLParser):
    def __init__(self):
        super().__init__()
        self.out = {"cards": {}, "rows": [], "charts": [], "options": {},
                    "view": {"id": None, "text": "", "headings": [], "tags": []},
                    "shown": None, "total": None, "hidden": [], "evals": ""}
        self.stack = []       # (tag, attrs) open elements
        self.grab = None      # (kind, key) whose text is being collected
        self.text = ""

    def inside(self, key, value):
        return any(a.get(key) == value for _, a in self.stack)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag in ("meta", "link", "input", "br", "img", "hr"):
            if self.inside("id", "view"):
                self.out["view"]["tags"].append(tag)
            return
        self.stack.append((tag, a))
        if "hidden" in a and a.get("id"):
            self.out["hidden"].append(a["id"])
        if a.get("class", "").split()[:1] == ["row"]:
            self.out["rows"].append({"id": a.get("data-id"), "reason": a.get("data-reason")})
        if tag == "div" and a.get("class") == "panel" and a.get("data-chart"):
            self.out["charts"].append(a["data-chart"])
        if a.get("id") == "view":
            self.out["view"]["id"] = a.get("data-id")
        if self.inside("id", "view") and tag != "article":
            self.out["view"]["tags"].append(tag)
        if tag == "option":
            sel = next((x for t, x in reversed(self.stack) if t == "select"), {})
            self.out["options"].setdefault(sel.get("id"), []).append(a.get("value"))
        if a.get("class") == "n" and len(self.stack) > 1 and self.stack[-2][1].get("data-stat"):
            self.grab, self.text = ("card", self.stack[-2][1]["data-stat"]), ""
        if a.get("id") in ("shown", "total"):
            self.grab, self.text = ("count", a["id"]), ""
        if tag in ("h2", "h3") and self.inside("id", "view"):
            self.grab, self.text = ("heading", None), ""

    def handle_endtag(self, tag):
        if self.grab and self.stack and self.stack[-1][0] == tag:
            kind, key = self.grab
            if kind == "card":
                self.out["cards"][key] = self.text
            elif kind == "count":
                self.out[key] = int(self.text.replace(",", ""))
            elif kind == "heading":
                self.out["view"]["headings"].append(self.text)
            self.grab = None
        while self.stack:
            t, _ = self.stack.pop()
            if t == tag:
                break

    def handle_data(self, data):
        if self.grab:
            self.text += data
        if self.inside("id", "evals"):
            self.out["evals"] += data + " "
        if self.inside("id", "view"):
            self.out["view"]["text"] += data


p = Page()
p.feed(sys.stdin.read())
print(json.dumps(p.out))
