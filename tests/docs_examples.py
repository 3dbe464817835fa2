#!/usr/bin/env python3
"""The docs test: every ```cpp example block of README.md and docs/*.md is a
complete program; compile it and run it, so the docs cannot drift from the
code.

A block counts when its opening fence's info string is exactly
`cpp example`; plain ```cpp blocks are fragments and are not compiled. Each
block is compiled on its own with

    g++ -std=c++20 -Iinclude -pthread -Wall -Wextra -Werror

(from the repository root) and run with a time limit; it must exit 0. A
failure names the file and the line of the block's opening fence, then the
compiler's or the program's output. Also checks that docs/api.md names every
public name the headers declare (see api_names), so the reference stays true,
and that every relative link of the pages leads to a file.

Usage: tests/docs_examples.py [--root DIR] [--cxx G++] [-j N] [FILE.md ...]
The last line is doctest's summary form, which tests/run counts:
`[doctest] test cases: N | P passed | F failed |`.
"""

import argparse
import concurrent.futures
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

FENCE_RE = re.compile(r"^(?P<indent> {0,3})(?P<fence>`{3,}|~{3,})(?P<info>.*)$")
INFO = "cpp example"
FLAGS = ["-std=c++20", "-Iinclude", "-pthread", "-Wall", "-Wextra", "-Werror"]
RUN_TIMEOUT_S = 60


def blocks(path, text):
    """Yields (line, code) for each ```cpp example block; line is 1-based."""
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        m = FENCE_RE.match(lines[i])
        if not m:
            i += 1
            continue
        fence, info, start = m["fence"], m["info"].strip(), i + 1
        body = []
        i += 1
        while i < len(lines):
            c = FENCE_RE.match(lines[i])
            if c and c["fence"][0] == fence[0] and len(c["fence"]) >= len(fence) and not c["info"].strip():
                break
            body.append(lines[i])
            i += 1
        else:
            if info == INFO:
                raise SystemExit(f"{path}:{start}: unterminated ```{INFO} block")
        i += 1
        if info == INFO:
            yield start, "\n".join(body) + "\n"


def check(root, cxx, rel, line, code, tmp):
    """Compiles and runs one block; returns None or the failure's text."""
    stem = re.sub(r"[^A-Za-z0-9]+", "_", f"{rel}_{line}")
    src, exe = Path(tmp) / f"{stem}.cpp", Path(tmp) / stem
    # Diagnostics name the markdown file and its own line numbers:
    # `docs/chan.md:44:5: error: ...` for the block opened at line 42.
    src.write_text(f'#line {line + 1} "{rel}"\n' + code)
    c = subprocess.run([cxx, *FLAGS, str(src), "-o", str(exe)], cwd=root,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if c.returncode != 0:
        return f"{rel}:{line}: the example does not compile:\n{c.stdout}"
    try:
        r = subprocess.run([str(exe)], cwd=tmp, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           stdin=subprocess.DEVNULL, text=True, errors="replace", timeout=RUN_TIMEOUT_S)
    except subprocess.TimeoutExpired as e:
        out = e.stdout.decode(errors="replace") if isinstance(e.stdout, bytes) else (e.stdout or "")
        return f"{rel}:{line}: the example ran over {RUN_TIMEOUT_S} s:\n{out[-2000:]}"
    if r.returncode != 0:
        how = f"exit status {r.returncode}" if r.returncode > 0 else f"signal {-r.returncode}"
        return f"{rel}:{line}: the example failed ({how}):\n{r.stdout[-2000:]}"
    return None


# ---------------------------------------------------------------- the API page

DECL_RES = [
    re.compile(r"^(?:template\s*<.*>\s*)?(?:class|struct|union|enum(?:\s+class)?)\s+(?:\[\[[^\]]*\]\]\s*)?(\w+)\s*(?:final\s*)?[:{;<]"),
    re.compile(r"^(?:template\s*<.*>\s*)?using\s+(\w+)\s*="),
    re.compile(r"^(?:template\s*<.*>\s*)?(?:\[\[\w+\]\]\s*)?(?:inline\s+)?(?:constexpr\s+)?(?:const\s+)?"
               r"(?:decltype\(auto\)|\w[\w:<>,\s\*&]*?)\s+\*?&?(\w+)\s*\("),
    re.compile(r"^(?:inline\s+)?(?:constexpr|const)\s+[\w:<>,\s]+?\s(\w+)\s*[={]"),
]
KEYWORDS = {"if", "for", "while", "switch", "return", "operator", "sizeof", "decltype", "requires"}


def api_names(header_text):
    """Public names a header declares directly in namespace gomp or a
    namespace inside it (net::dial; not in a detail namespace, not members), each with the first sentence of the comment
    above its first commented declaration: {name: summary}. Classes, aliases,
    functions, variables, and GOMP_* macros. A line-based reading, enough for
    the headers' style: declarations start at column 0 inside the namespace."""
    names = {}
    lines = header_text.splitlines()
    for k, line in enumerate(lines):
        m = re.match(r"^#\s*define\s+(GOMP_[A-Z0-9_]+)", line)
        if m and not m[1].startswith("GOMP_DETAIL"):
            names.setdefault(m[1], summary(lines, k))
    ns, depth, stmt, first = [], 0, "", 0
    in_block = False
    for k, raw in enumerate(lines):
        line = re.sub(r"//.*", "", raw).rstrip()
        if in_block or "/*" in line:  # block comments: skipped whole
            in_block = "*/" not in line
            continue
        s = line.strip()
        if not s or s.startswith("#"):
            continue
        m = re.match(r"^namespace\s+([\w:]+)\s*\{", s)
        if m:
            ns.append((m[1], depth))
            depth += 1
            continue
        path = [c for n, _ in ns for c in n.split("::")]
        top = path[:1] == ["gomp"] and "detail" not in path and ns[-1][1] == depth - 1
        prefix = "".join(c + "::" for c in path[1:])  # gomp::net -> "net::"
        if top and not line.startswith((" ", "\t")):
            if not stmt:
                first = k
            stmt = (stmt + " " + s) if stmt else s
            d = None
            for rx in DECL_RES:
                d = rx.match(stmt)
                if d and d[1] not in KEYWORDS and not d[1].startswith("_"):
                    name, text = prefix + d[1], summary(lines, first)
                    if text or name not in names:
                        names[name] = names.get(name) or text
                    break
                d = None
            if stmt.endswith((";", "{", "}")) or d:
                stmt = ""
        depth += line.count("{") - line.count("}")
        while ns and depth <= ns[-1][1]:
            ns.pop()
    return names


def summary(lines, k):
    """The first sentence of the // comment block right above line k (its
    prose: the comment's lines up to a blank or an indented code line)."""
    j = k
    while j > 0 and lines[j - 1].startswith("//"):
        j -= 1
    prose = []
    for ln in lines[j:k]:
        body = ln[2:]
        if not body.strip() or body.startswith("    "):
            break
        prose.append(body.strip())
    text = " ".join(prose)
    m = re.match(r"(.+?\.)(\s|$)", text)
    text = m[1] if m else text.rstrip(":")
    return text if len(text) <= 200 else text[:197].rstrip() + "..."


# Header -> the docs page that explains it (when that page exists).
PAGES = {"proc": "proc.md", "runtime": "proc.md", "sync": "sync.md", "chan": "chan.md", "select": "select.md",
         "map": "map.md", "hash": "map.md", "slice": "slice.md", "iface": "iface.md",
         "time": "time.md", "context": "context.md", "poller": "netpoll.md", "net": "net.md",
         "panic": "faq.md", "version": "index.md"}
API_HEAD = """# API reference

Every public name of `include/gomp/*.hpp`, by header, one line each: the first
sentence of the name's own comment in the header, which says more. Names in
`gomp::detail` are the runtime's internals and not API. This page is generated
from the headers (`tests/docs_examples.py --write-api`) and the docs test fails
when a header declares a name this page does not list.

`#include <gomp/gomp.hpp>` includes every header below.
"""


def public_names(root):
    """[(header as included, {name: summary})]: the public headers, then the
    detail headers that declare names in namespace gomp (config: public, but
    declared next to the scheduler). Detail headers' macros are internal."""
    inc = root / "include"
    out = []
    for h in sorted(inc.glob("gomp/*.hpp")) + sorted(inc.glob("gomp/detail/*.hpp")):
        names = api_names(h.read_text())
        if h.parent.name == "detail":
            names = {n: t for n, t in names.items() if not n.startswith("GOMP_")}
        if names:
            out.append((str(h.relative_to(inc)), names))
    return out


def render_api(root):
    out = [API_HEAD]
    for header, names in public_names(root):
        page = PAGES.get(Path(header).stem)
        link = f" ([{page}]({page}))" if page and (root / "docs" / page).exists() else ""
        out.append(f"\n## `<{header}>`{link}\n")
        for n in sorted(names, key=lambda n: (n.upper() != n, n)):
            out.append(f"- `{n}`" + (f": {names[n]}" if names[n] else ""))
    return "\n".join(out) + "\n"


def check_api(root):
    """docs/api.md must name every public name of include/gomp/*.hpp (in
    backquotes); returns failures."""
    api = root / "docs" / "api.md"
    if not api.exists():
        return ["docs/api.md is missing: run tests/docs_examples.py --write-api"]
    listed = set(re.findall(r"^- `([\w:]+)`", api.read_text(), re.M))
    failures = []
    for header, names in public_names(root):
        missing = sorted(set(names) - listed)
        if missing:
            failures.append(f"docs/api.md does not list {', '.join(missing)} (public in include/{header});"
                            " run tests/docs_examples.py --write-api")
    return failures


def check_links(root, files):
    """Every relative link of the pages ([text](path)) names a file that
    exists, so the site stays one piece; returns failures."""
    failures = []
    for f in files:
        lines = f.read_text().splitlines()
        fence = None
        for n, line in enumerate(lines, 1):
            m = FENCE_RE.match(line)
            if m:
                fence = None if fence and m["fence"][0] == fence else (fence or m["fence"][0])
                continue
            if fence:
                continue
            for t in re.findall(r"\]\(([^)\s]+)\)", line):
                path = t.split("#")[0]
                if path and not re.match(r"[a-z]+:", t) and not (f.parent / path).exists():
                    failures.append(f"{f.relative_to(root)}:{n}: broken link to {t}")
    return failures


def main(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--root", default=Path(__file__).resolve().parent.parent, type=Path)
    p.add_argument("--cxx", default=os.environ.get("CXX_DOCS", "g++"))
    p.add_argument("-j", type=int, default=min(2, os.cpu_count() or 1))
    p.add_argument("--list-api", metavar="HEADER", help="print the public names of HEADER and exit")
    p.add_argument("--write-api", action="store_true", help="regenerate docs/api.md from the headers and exit")
    p.add_argument("files", nargs="*", type=Path)
    args = p.parse_args(argv)
    root = args.root.resolve()
    if args.list_api:
        for n, text in sorted(api_names(Path(args.list_api).read_text()).items()):
            print(f"{n}: {text}")
        return 0
    if args.write_api:
        (root / "docs" / "api.md").write_text(render_api(root))
        return 0
    files = args.files or [root / "README.md", *sorted((root / "docs").glob("*.md"))]
    todo = []
    for f in files:
        f = f.resolve()
        rel = str(f.relative_to(root)) if f.is_relative_to(root) else str(f)
        todo += [(rel, line, code) for line, code in blocks(rel, f.read_text())]

    failures = [] if args.files else check_api(root)
    link_failures = [] if args.files else check_links(root, [f.resolve() for f in files])
    failures += link_failures
    passed = 0
    with tempfile.TemporaryDirectory(prefix="gomp-docs-") as tmp, \
            concurrent.futures.ThreadPoolExecutor(args.j) as pool:
        futures = [(rel, line, pool.submit(check, root, args.cxx, rel, line, code, tmp))
                   for rel, line, code in todo]
        for rel, line, fut in futures:
            err = fut.result()
            if err:
                failures.append(err)
                print(f"FAIL {rel}:{line}", flush=True)
            else:
                passed += 1
                print(f"ok   {rel}:{line}", flush=True)
    for f in failures:
        print("\n" + f.rstrip(), file=sys.stderr)
    n = len(todo) + (0 if args.files else 2)  # the API and link checks: a case each
    if not args.files:
        passed += (not any(f.startswith("docs/api.md") for f in failures)) + (not link_failures)
    print(f"[doctest] test cases: {n} | {passed} passed | {n - passed} failed |")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
