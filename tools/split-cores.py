#!/usr/bin/env python3
"""Split each `X-actor` module into a pure core module and an actor module (issue 11 item 9).

Run at the repository root:

    python3 tools/split-cores.py --dry-run   # print the classification and the plan, change nothing
    python3 tools/split-cores.py             # do it (git mv, rewrite sources and poms)
    mvn -B -ntp -q spotless:apply            # imports added by the script are then sorted

For each area (guest MMU, host MMU, page frames, KSM, vCPU) the classes of the area's package are
classified automatically, so the script also works on classes it has never seen:

  * a class is a SHELL if it imports org.apache.pekko, or references (transitively) a shell class
    anywhere in the repository (a shell of another area, a shared actor kit, ...);
  * otherwise it is a CORE.

Cores move (git mv) to the core module (`guest-mmu`, `host-mmu`, ...), keeping their package
`org.mmumesh.X`. Shells stay in the `X-actor` module and move to the package `org.mmumesh.X.actor`.
Tests follow the same rule (a test is a shell test if it imports Pekko or references a shell class
or a shell test class of its module). Every reference in the repository is rewritten: package
lines, imports (single, static, nested), fully qualified names in Java, .conf, .xml and .properties
files; moved shells get explicit imports of the cores they used without import.

Poms: the core modules are created (no Pekko; their third-party dependencies are derived from
their imports), added to the parent's <modules> before the actor modules, and every module's
dependencies on the ten area artifacts are recomputed from what its sources reference (main
sources: compile scope; tests only: test scope; a test helper class of another module: test-jar).
So `engine`, which references cores only, loses every `-actor` module and with it Pekko.

Access across the new package boundary (a shell using a core's package-private class or member)
does not compile. Package-private top-level core classes used by a shell are made public
automatically; members are fixed by the MEMBER_FIXUPS table below (each entry: a class, a regex of
the declaration, the replacement); a fixup that no longer matches is reported, never fatal.

Idempotent: the scan starts from wherever the files are now (the old module, the core module or
the actor package), so a second run moves nothing and rewrites nothing. It refuses to run on a
dirty work tree unless --force. It prints what it could not decide (sub-packages, resources,
shells the engine would need) for a human to check.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
from dataclasses import dataclass, field

# (actor module, core module, package, core module's <name>)
AREAS = [
    ("guest-mmu-actor", "guest-mmu", "org.mmumesh.guestmmu", "mmumesh guest MMU core"),
    ("host-mmu-actor", "host-mmu", "org.mmumesh.hostmmu", "mmumesh host MMU core"),
    ("page-frame-actor", "page-frame", "org.mmumesh.pageframe", "mmumesh page frames core"),
    ("ksm-actor", "ksm", "org.mmumesh.ksm", "mmumesh KSM core"),
    ("vcpu-actor", "vcpu", "org.mmumesh.vcpu", "mmumesh vCPU core"),
]
SHELL_SUBPACKAGE = "actor"
PEKKO = "org.apache.pekko"
GROUP = "org.mmumesh"

# Third-party packages a core may import -> (groupId, artifactId); versions come from the parent.
THIRD_PARTY = {
    "it.unimi.dsi.fastutil": ("it.unimi.dsi", "fastutil"),
    "com.fasterxml.jackson.annotation": ("com.fasterxml.jackson.core", "jackson-annotations"),
    "com.github.luben.zstd": ("com.github.luben", "zstd-jni"),
    "org.HdrHistogram": ("org.hdrhistogram", "HdrHistogram"),
}
# Third-party artifacts the parent must manage for the cores (Pekko brought them before).
PARENT_MANAGED = {
    ("com.fasterxml.jackson.core", "jackson-annotations"): (
        "2.21",
        "Jackson annotations on core messages (VcpuStateChange); the version"
        " pekko-serialization-jackson ${pekko.version} brings",
    ),
}

# Package-private members of cores that shells (or shell tests) use across the new package
# boundary: (core class file stem, regex on the declaration, replacement). Found by compiling the
# split tree; a pattern that no longer matches is reported.
MEMBER_FIXUPS: list[tuple[str, str, str]] = []

# Modules that must reach cores only (never an -actor module, hence no Pekko).
CORES_ONLY = {"engine"}

JAVA_KEYWORDS_DECL = r"(?:(?:final|abstract|sealed|non-sealed|static|strictfp)\s+)*"


# ---------------------------------------------------------------------------------------------
# Java scanning


def strip_comments_and_strings(src: str) -> str:
    """Java source with comments, string/char literals and text blocks blanked out."""
    out = []
    i, n = 0, len(src)
    while i < n:
        c = src[i]
        if src.startswith("//", i):
            j = src.find("\n", i)
            i = n if j < 0 else j
        elif src.startswith("/*", i):
            j = src.find("*/", i + 2)
            end = n if j < 0 else j + 2
            out.append(" " + "\n" * src.count("\n", i, end))  # keep line numbers
            i = end
        elif src.startswith('"""', i):
            j = src.find('"""', i + 3)
            while j > 0 and src[j - 1] == "\\":
                j = src.find('"""', j + 1)
            end = n if j < 0 else j + 3
            out.append('""' + "\n" * src.count("\n", i, end))
            i = end
        elif c == '"' or c == "'":
            j = i + 1
            while j < n and src[j] != c and src[j] != "\n":
                j += 2 if src[j] == "\\" else 1
            i = j + 1
            out.append('""')
        else:
            out.append(c)
            i += 1
    return "".join(out)


PACKAGE_RE = re.compile(r"^\s*package\s+([\w.]+)\s*;", re.M)
IMPORT_RE = re.compile(r"^\s*import\s+(static\s+)?([\w.]+(?:\.\*)?)\s*;", re.M)
IDENT_RE = re.compile(r"[A-Za-z_$][\w$]*")
TEST_ANNOTATION_RE = re.compile(r"@(Test|Property|Example|ParameterizedTest|RepeatedTest|TestFactory)\b")
FQN_RE = re.compile(r"\borg\.mmumesh(?:\.[\w$]+)+")


@dataclass
class JavaFile:
    path: str  # relative to the repo root
    module: str
    kind: str  # "main" or "test"
    package: str
    name: str  # file stem (top-level class, or package-info)
    imports: list[tuple[bool, str]]
    tokens: set[str]
    code: str  # stripped code after the imports
    refs: set[str] = field(default_factory=set)  # FQNs of known classes referenced
    shell_reason: str | None = None

    @property
    def fqn(self) -> str:
        return f"{self.package}.{self.name}"

    @property
    def imports_pekko(self) -> bool:
        return any(i.startswith(PEKKO + ".") for _, i in self.imports) or (PEKKO + ".") in self.code


def git(*args: str, capture: bool = True) -> str:
    r = subprocess.run(["git", *args], check=True, text=True, capture_output=capture)
    return r.stdout if capture else ""


def module_of(path: str, modules: list[str]) -> tuple[str, str] | None:
    for m in modules:
        for kind in ("main", "test"):
            root = f"{m}/src/{kind}/java/"
            if path.startswith(root):
                return m, kind
    return None


def read_java(path: str, module: str, kind: str) -> JavaFile:
    with open(path, encoding="utf-8") as f:
        src = f.read()
    stripped = strip_comments_and_strings(src)
    pm = PACKAGE_RE.search(stripped)
    package = pm.group(1) if pm else ""
    imports = [(bool(m.group(1)), m.group(2)) for m in IMPORT_RE.finditer(stripped)]
    last = max([m.end() for m in IMPORT_RE.finditer(stripped)] + [pm.end() if pm else 0])
    code = stripped[last:]
    name = os.path.basename(path)[: -len(".java")]
    return JavaFile(path, module, kind, package, name, imports, set(IDENT_RE.findall(code)), code)


def parent_modules() -> list[str]:
    with open("pom.xml", encoding="utf-8") as f:
        return re.findall(r"<module>([^<]+)</module>", f.read())


def scan(modules: list[str]) -> list[JavaFile]:
    files = []
    for path in git("ls-files", "--", "*.java").splitlines():
        if not os.path.exists(path):
            continue
        mk = module_of(path, modules)
        if mk:
            files.append(read_java(path, *mk))
    return files


def resolve_refs(files: list[JavaFile]) -> None:
    """Fill JavaFile.refs: the known classes each file references (main: main classes only;
    test: main classes and the test classes of its own module)."""
    main = {f.fqn: f for f in files if f.kind == "main" and f.name != "package-info"}
    tests_by_module: dict[str, dict[str, JavaFile]] = {}
    for f in files:
        if f.kind == "test" and f.name != "package-info":
            tests_by_module.setdefault(f.module, {})[f.fqn] = f
    by_pkg: dict[str, list[str]] = {}
    for fqn in main:
        by_pkg.setdefault(fqn.rsplit(".", 1)[0], []).append(fqn)

    for f in files:
        visible = dict(main)
        pkgs = {k: list(v) for k, v in by_pkg.items()}
        if f.kind == "test":
            # Test helpers of other modules (reachable through a test-jar) and of its own.
            for mod in sorted(tests_by_module, key=lambda m: m == f.module):
                for fqn, t in tests_by_module[mod].items():
                    if fqn not in visible or visible[fqn].kind == "test":
                        visible[fqn] = t
            for fqn in visible:
                if visible[fqn].kind == "test":
                    pkgs.setdefault(fqn.rsplit(".", 1)[0], []).append(fqn)

        def longest_class_prefix(name: str) -> str | None:
            parts = name.split(".")
            for k in range(len(parts), 0, -1):
                cand = ".".join(parts[:k])
                if cand in visible:
                    return cand
            return None

        refs = set()
        for fqn in pkgs.get(f.package, []):
            if fqn != f.fqn and fqn.rsplit(".", 1)[1] in f.tokens:
                refs.add(fqn)
        for _static, imp in f.imports:
            if imp.endswith(".*"):
                base = imp[:-2]
                if base in visible:
                    refs.add(base)
                for fqn in pkgs.get(base, []):
                    if fqn.rsplit(".", 1)[1] in f.tokens:
                        refs.add(fqn)
            else:
                c = longest_class_prefix(imp)
                if c:
                    refs.add(c)
        for m in FQN_RE.finditer(f.code):
            c = longest_class_prefix(m.group(0))
            if c:
                refs.add(c)
        refs.discard(f.fqn)
        f.refs = refs


def classify(files: list[JavaFile]) -> None:
    """Mark shells: Pekko imports, then the transitive closure over references."""
    by_fqn_main = {f.fqn: f for f in files if f.kind == "main"}
    for f in files:
        if f.imports_pekko:
            f.shell_reason = "imports org.apache.pekko"
    changed = True
    while changed:
        changed = False
        for f in files:
            if f.shell_reason:
                continue
            for r in sorted(f.refs):
                target = by_fqn_main.get(r)
                if f.kind == "test" and (target is None or target.path == f.path):
                    target = next((t for t in files if t.fqn == r and t.kind == "test"), target)
                if target is not None and target.shell_reason:
                    f.shell_reason = f"uses shell {r.rsplit('.', 1)[1]}"
                    changed = True
                    break
        # A test helper (no test methods) used by shell tests only goes with them.
        for f in files:
            if f.kind != "test" or f.shell_reason or TEST_ANNOTATION_RE.search(f.code):
                continue
            users = [u for u in files if u.kind == "test" and f.fqn in u.refs]
            if users and all(u.shell_reason for u in users):
                f.shell_reason = "test helper used by shell tests only"
                changed = True


# ---------------------------------------------------------------------------------------------
# Planning


@dataclass
class Move:
    f: JavaFile
    dest_path: str
    new_package: str


def area_of(f: JavaFile):
    for area in AREAS:
        actor, core, pkg, _ = area
        if f.module in (actor, core) and (f.package == pkg or f.package.startswith(pkg + ".")):
            return area
    return None


def area_of_path(f: JavaFile):
    """The area of a file by its current place (after the moves, f.module is updated)."""
    return area_of(f)


def plan(files: list[JavaFile], undecided: list[str]) -> list[Move]:
    moves = []
    for f in files:
        area = area_of(f)
        if area is None:
            if any(f.module in (a[0], a[1]) for a in AREAS):
                undecided.append(f"{f.path}: package {f.package} is outside its area; left alone")
            continue
        actor, core, pkg, _ = area
        shell_pkg = f"{pkg}.{SHELL_SUBPACKAGE}"
        if f.package == shell_pkg:
            new_pkg, module = shell_pkg, actor  # already split
            if not f.shell_reason:
                undecided.append(f"{f.path}: in the actor package but uses no Pekko; left there")
        elif f.package == pkg:
            if f.name == "package-info":
                new_pkg, module = pkg, core
            elif f.shell_reason:
                new_pkg, module = shell_pkg, actor
            else:
                new_pkg, module = pkg, core
        else:
            # A sub-package of its own: keep the package, pick the module by the same rule.
            new_pkg, module = f.package, actor if f.shell_reason else core
            undecided.append(
                f"{f.path}: sub-package {f.package} kept as is, placed in {module} "
                f"({'shell' if f.shell_reason else 'core'})"
            )
        dest = f"{module}/src/{f.kind}/java/{new_pkg.replace('.', '/')}/{f.name}.java"
        if dest != f.path:
            moves.append(Move(f, dest, new_pkg))
    return moves


def print_classification(files: list[JavaFile]) -> None:
    for actor, core, pkg, _ in AREAS:
        print(f"\n== {pkg}  ({core} | {actor})")
        for kind in ("main", "test"):
            fs = sorted(
                (f for f in files if area_of(f) and area_of(f)[2] == pkg and f.kind == kind),
                key=lambda f: (bool(f.shell_reason), f.name),
            )
            cores = [f.name for f in fs if not f.shell_reason]
            print(f"  {kind} core : {', '.join(cores) or '-'}")
            for f in fs:
                if f.shell_reason:
                    print(f"  {kind} shell: {f.name:28s} ({f.shell_reason})")


# ---------------------------------------------------------------------------------------------
# Rewriting sources


def rewrite_fqns(text: str, renames: dict[str, str]) -> str:
    if not renames:
        return text

    def sub(m: re.Match) -> str:
        name = m.group(0)
        parts = name.split(".")
        for k in range(len(parts), 0, -1):
            cand = ".".join(parts[:k])
            if cand in renames:
                return ".".join([renames[cand]] + parts[k:])
        return name

    return FQN_RE.sub(sub, text)


def add_imports(src: str, new_imports: list[str]) -> str:
    existing = set(re.findall(r"^import\s+([\w.]+)\s*;", src, re.M))
    todo = sorted(i for i in set(new_imports) if i not in existing)
    if not todo:
        return src
    lines = src.split("\n")
    import_idx = [i for i, l in enumerate(lines) if re.match(r"import\s+(?!static)[\w.]+", l)]
    text = [f"import {i};" for i in todo]
    if import_idx:
        # Insert in sorted position among the non-static imports (spotless sorts anyway).
        for t in text:
            import_idx = [i for i, l in enumerate(lines) if re.match(r"import\s+(?!static)[\w.]+", l)]
            pos = next((i for i in import_idx if lines[i] > t), import_idx[-1] + 1)
            lines.insert(pos, t)
    else:
        pkg_line = next(i for i, l in enumerate(lines) if l.startswith("package "))
        lines[pkg_line + 1 : pkg_line + 1] = [""] + text
    return "\n".join(lines)


DECL_RE = re.compile(
    r"^(?P<indent>[ \t]+)(?P<mods>(?:(?:static|final|abstract|sealed|non-sealed|synchronized|"
    r"native|transient|volatile|default|strictfp)\s+)*)"
    r"(?:(?P<kind>class|interface|record|enum)\s+(?P<type>\w+)"
    r"|(?:<[^>]*>\s+)?(?P<ret>[\w$.<>,?\[\] ]+?)\s+(?P<name>[\w$]+)\s*(?P<paren>\()?"
    r"|(?P<ctor>[A-Z][\w$]*)\s*\()"
)


def member_lines(src: str) -> list[tuple[int, str, str]]:
    """(line index, declared name, kind) of the package-private member declarations of the
    types in `src` (not interface members, which are public already). Kinds: type, method,
    field, ctor."""
    stripped = strip_comments_and_strings(src).split("\n")
    out = []
    stack: list[str] = []  # enclosing braces: "class", "interface" or "code"
    pending = ""
    for i, line in enumerate(stripped):
        top = stack[-1] if stack else None
        m = DECL_RE.match(line) if top in ("class", "enum") else None
        if m and not re.match(r"\s*(public|private|protected|return|new|throw|else|case)\b", line):
            if m.group("kind"):
                out.append((i, m.group("type"), "type"))
            elif m.group("ctor"):
                if top != "enum":  # enum constructors are private by definition
                    out.append((i, m.group("ctor"), "ctor"))
            elif m.group("name") and m.group("ret", ).strip() and m.group("ret").split()[0] not in ("package", "import", "else", "return", "throw", "new", "case", "yield", "assert"):
                rest = line[m.end():]
                if m.group("paren"):
                    out.append((i, m.group("name"), "method"))
                elif re.match(r"\s*(=|;)", rest):
                    out.append((i, m.group("name"), "field"))
        for ch in line:
            if ch == "{":
                kw = re.findall(r"\b(class|interface|record|enum|@interface)\b", pending)
                if kw and re.search(r"\bprivate\b", pending):
                    stack.append("private")  # a private nested type: nobody outside uses it
                elif kw:
                    k = kw[-1]
                    stack.append("interface" if k in ("interface", "@interface") else "enum" if k == "enum" else "class")
                else:
                    stack.append("code")
                pending = ""
            elif ch == "}":
                if stack:
                    stack.pop()
                pending = ""
            elif ch == ";":
                pending = ""
            else:
                pending += ch
        pending += " "
    return out


def open_members(src: str, cls: str, users_code: str) -> tuple[str, list[str]]:
    """Make public the package-private members of `src` that code in another package uses."""
    tokens = set(IDENT_RE.findall(users_code))
    lines = src.split("\n")
    opened = []
    for i, name, kind in member_lines(src):
        if kind == "ctor":
            used = re.search(rf"\bnew\s+(?:[\w.]+\.)?{re.escape(name)}\s*[(<]|\b{re.escape(name)}::new", users_code)
        else:
            used = name in tokens
        if used:
            indent = len(lines[i]) - len(lines[i].lstrip())
            lines[i] = lines[i][:indent] + "public " + lines[i][indent:]
            opened.append(f"{name} ({kind})")
    return "\n".join(lines), opened


def make_public(src: str, name: str) -> tuple[str, bool]:
    """Make the top-level type `name` public if it is package-private."""
    pat = re.compile(
        rf"^({JAVA_KEYWORDS_DECL})(class|interface|record|enum|@interface)\s+{re.escape(name)}\b",
        re.M,
    )
    m = pat.search(src)
    if not m or "public" in m.group(1):
        return src, False
    return src[: m.start()] + "public " + src[m.start() :], True


# ---------------------------------------------------------------------------------------------
# Poms

DEP_RE = re.compile(r"[ \t]*<dependency>.*?</dependency>[ \t]*\n", re.S)


def dep_xml(group: str, artifact: str, scope: str | None, typ: str | None, version: bool) -> str:
    lines = ["    <dependency>", f"      <groupId>{group}</groupId>", f"      <artifactId>{artifact}</artifactId>"]
    if version:
        lines.append("      <version>${project.version}</version>")
    if typ:
        lines.append(f"      <type>{typ}</type>")
    if scope:
        lines.append(f"      <scope>{scope}</scope>")
    lines.append("    </dependency>")
    return "\n".join(lines) + "\n"


def core_pom(core: str, name: str, description: str) -> str:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<project xmlns="http://maven.apache.org/POM/4.0.0"
         xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
         xsi:schemaLocation="http://maven.apache.org/POM/4.0.0 https://maven.apache.org/xsd/maven-4.0.0.xsd">
  <modelVersion>4.0.0</modelVersion>
  <parent>
    <groupId>org.mmumesh</groupId>
    <artifactId>mmumesh-parent</artifactId>
    <version>0.1.0-SNAPSHOT</version>
  </parent>
  <artifactId>{core}</artifactId>
  <name>{name}</name>
  <description>{description}</description>
  <!-- Pure cores: no Pekko here (generated by tools/split-cores.py). -->
  <dependencies>
  </dependencies>
</project>
"""


def ensure_test_jar(pom: str) -> str:
    if "<goal>test-jar</goal>" in pom:
        return pom
    plugin = """      <plugin>
        <groupId>org.apache.maven.plugins</groupId>
        <artifactId>maven-jar-plugin</artifactId>
        <executions>
          <execution>
            <goals>
              <goal>test-jar</goal>
            </goals>
          </execution>
        </executions>
      </plugin>
"""
    if "<plugins>" in pom:
        return pom.replace("<plugins>\n", "<plugins>\n" + plugin, 1)
    if "<build>" in pom:
        return pom.replace("<build>\n", "<build>\n    <plugins>\n" + plugin + "    </plugins>\n", 1)
    return pom.replace("</project>", "  <build>\n    <plugins>\n" + plugin + "    </plugins>\n  </build>\n</project>")


def artifact_of_pom(pom: str) -> str:
    body = re.sub(r"<parent>.*?</parent>", "", pom, flags=re.S)
    return re.search(r"<artifactId>([^<]+)</artifactId>", body).group(1)


# ---------------------------------------------------------------------------------------------


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dry-run", action="store_true", help="print the classification and plan only")
    ap.add_argument("--force", action="store_true", help="run on a dirty work tree")
    args = ap.parse_args()

    if not os.path.exists("pom.xml") or "mmumesh-parent" not in open("pom.xml").read():
        print("run me at the root of the mmumesh repository", file=sys.stderr)
        return 2
    if not args.dry_run and not args.force and git("status", "--porcelain", "--untracked-files=no").strip():
        print("the work tree has uncommitted changes: commit or stash them, or pass --force", file=sys.stderr)
        return 2

    modules = parent_modules()
    for actor, core, _, _ in AREAS:
        if actor not in modules:
            print(f"warning: module {actor} not in the parent pom; area skipped", file=sys.stderr)
        if core not in modules and os.path.isdir(core):
            modules.append(core)
    area_modules = {m for a in AREAS for m in a[:2]}
    undecided: list[str] = []

    files = scan(modules)
    resolve_refs(files)
    classify(files)
    print_classification(files)
    moves = plan(files, undecided)

    print(f"\n{len(moves)} files to move")
    for mv in moves:
        print(f"  {mv.f.path} -> {mv.dest_path}")

    # Non-area modules whose main code would need a shell (the engine must not).
    for f in files:
        if f.module == "engine" and f.kind == "main" and f.shell_reason:
            undecided.append(f"engine/{f.name}: {f.shell_reason}: the engine would need Pekko")
    # Resources of the actor modules stay there; say so.
    for actor, core, _, _ in AREAS:
        for path in git("ls-files", "--", f"{actor}/src").splitlines():
            if "/resources/" in path:
                undecided.append(f"{path}: resource kept in {actor} (move by hand if a core needs it)")

    if args.dry_run:
        report(undecided, [])
        return 0

    renames = {mv.f.fqn: f"{mv.new_package}.{mv.f.name}" for mv in moves if mv.new_package != mv.f.package}
    notes: list[str] = []
    # Already split (a rerun after a merge): stale names of shells in the old package are renamed too.
    existing = {f.fqn for f in files}
    for f in files:
        area = area_of(f)
        if area and f.package == f"{area[2]}.{SHELL_SUBPACKAGE}" and f"{area[2]}.{f.name}" not in existing:
            renames.setdefault(f"{area[2]}.{f.name}", f.fqn)

    # 1. git mv.
    old_paths = {mv.f.path: mv for mv in moves}
    for mv in moves:
        os.makedirs(os.path.dirname(mv.dest_path), exist_ok=True)
        git("mv", mv.f.path, mv.dest_path)
        mv.f.path = mv.dest_path
        mv.f.module = mv.dest_path.split("/", 1)[0]

    # 2. Rewrite every Java file: package line, imports, FQNs; implicit same-package imports.
    moved_pkg = {mv.f.fqn: mv.new_package for mv in moves}
    by_fqn = {f.fqn: f for f in files}
    public_needed: set[str] = set()
    for f in files:
        with open(f.path, encoding="utf-8") as fh:
            src = fh.read()
        new = src
        new_pkg = moved_pkg.get(f.fqn, f.package)
        if new_pkg != f.package:
            new = re.sub(rf"^(\s*package\s+){re.escape(f.package)}(\s*;)", rf"\g<1>{new_pkg}\2", new, count=1, flags=re.M)
        new = rewrite_fqns(new, renames)
        extra = []
        for r in f.refs:
            rpkg, rname = r.rsplit(".", 1)
            r_new_pkg = moved_pkg.get(r, rpkg)
            if rpkg == f.package and r_new_pkg != new_pkg:
                # Was same-package (no import), now across packages.
                extra.append(f"{r_new_pkg}.{rname}")
                if r in by_fqn and new_pkg != r_new_pkg:
                    public_needed.add(r)
        # Wildcard imports of an old package whose classes moved.
        for _static, imp in f.imports:
            if imp.endswith(".*") and not _static:
                base = imp[:-2]
                if any(moved_pkg.get(r, "") != base and r.rsplit(".", 1)[0] == base for r in f.refs if r in moved_pkg):
                    extra.append(f"{base}.{SHELL_SUBPACKAGE}.*")
        new = add_imports(new, extra)
        if new != src:
            with open(f.path, "w", encoding="utf-8") as fh:
                fh.write(new)

    # 3. Package-private top-level cores used across the new boundary become public.
    for fqn in sorted(public_needed):
        f = by_fqn[fqn]
        with open(f.path, encoding="utf-8") as fh:
            src = fh.read()
        new, changed = make_public(src, f.name)
        if changed:
            with open(f.path, "w", encoding="utf-8") as fh:
                fh.write(new)
            notes.append(f"made public: {f.path} (used from another package after the split)")
    # Members of cores (and core test helpers) that code now in another package uses.
    # Only cores of an area lose access: their users that moved to the actor package.
    for f in files:
        if f.shell_reason or area_of_path(f) is None:
            continue
        users = [
            u for u in files
            if f.fqn in u.refs and u.fqn in moved_pkg and moved_pkg[u.fqn] != u.package
            and moved_pkg[u.fqn] != f.package
        ]
        if not users:
            continue
        users_code = ""
        for u in users:
            with open(u.path, encoding="utf-8") as fh:
                users_code += strip_comments_and_strings(fh.read()) + "\n"
        with open(f.path, encoding="utf-8") as fh:
            src = fh.read()
        new, opened = open_members(src, f.name, users_code)
        if opened:
            with open(f.path, "w", encoding="utf-8") as fh:
                fh.write(new)
            notes.append(f"made public in {f.path}: {', '.join(opened)}")
    for stem, pattern, repl in MEMBER_FIXUPS:
        target = next((f for f in files if f.name == stem), None)
        if target is None:
            notes.append(f"fixup for {stem}: class not found (skipped)")
            continue
        with open(target.path, encoding="utf-8") as fh:
            src = fh.read()
        new, count = re.subn(pattern, repl, src, flags=re.M)
        if count == 0:
            if re.search(repl.replace("\\", ""), src) is None:
                notes.append(f"fixup for {stem}: pattern {pattern!r} not found (check by hand)")
            continue
        with open(target.path, "w", encoding="utf-8") as fh:
            fh.write(new)
        notes.append(f"fixup applied: {target.path}: {pattern!r} ({count}x)")

    # 4. FQNs in configuration and build files.
    for path in git("ls-files", "--", "*.conf", "*.xml", "*.properties").splitlines():
        if not os.path.exists(path):
            continue
        with open(path, encoding="utf-8") as fh:
            src = fh.read()
        new = rewrite_fqns(src, renames)
        if new != src:
            with open(path, "w", encoding="utf-8") as fh:
                fh.write(new)
            notes.append(f"class names rewritten in {path}")

    # 4b. Links and class names in the documentation (README, docs/): moved paths, FQNs.
    path_renames = {mv_old: mv.dest_path for mv_old, mv in old_paths.items()}
    for path in git("ls-files", "--", "*.md").splitlines():
        if not os.path.exists(path):
            continue
        with open(path, encoding="utf-8") as fh:
            src = fh.read()
        new = rewrite_fqns(src, renames)
        for old_path, new_path in path_renames.items():
            new = new.replace(old_path, new_path)
        if new != src:
            with open(path, "w", encoding="utf-8") as fh:
                fh.write(new)
            notes.append(f"paths and class names rewritten in {path}")

    # 5. package-info for each actor package that has none.
    for actor, core, pkg, _ in AREAS:
        d = f"{actor}/src/main/java/{pkg.replace('.', '/')}/{SHELL_SUBPACKAGE}"
        if os.path.isdir(d) and not os.path.exists(f"{d}/package-info.java"):
            with open(f"{d}/package-info.java", "w", encoding="utf-8") as fh:
                fh.write(
                    "/**\n"
                    f" * The actor shells of {{@code {pkg}}}: Pekko behaviours that route messages to the pure\n"
                    f" * cores of {{@code {pkg}}} (module {core}) and own their state.\n"
                    " */\n"
                    f"package {pkg}.{SHELL_SUBPACKAGE};\n"
                )
            git("add", f"{d}/package-info.java")

    # 6. Poms.
    update_poms(modules, area_modules, notes)

    report(undecided, notes)
    print("\nnext: mvn -B -ntp -q spotless:apply && mvn -B -ntp -o verify -DskipTests")
    return 0


def update_poms(modules: list[str], area_modules: set[str], notes: list[str]) -> None:
    # Parent <modules>: each core right before its actor module.
    with open("pom.xml", encoding="utf-8") as fh:
        parent = fh.read()
    for actor, core, _, _ in AREAS:
        if f"<module>{core}</module>" not in parent and f"<module>{actor}</module>" in parent:
            parent = parent.replace(f"<module>{actor}</module>", f"<module>{core}</module>\n    <module>{actor}</module>", 1)
    # Core poms, created from their actor module's description.
    for actor, core, pkg, name in AREAS:
        if not os.path.isdir(core) or os.path.exists(f"{core}/pom.xml"):
            continue
        with open(f"{actor}/pom.xml", encoding="utf-8") as fh:
            apom = fh.read()
        desc = re.search(r"<description>(.*?)</description>", apom, re.S)
        desc = desc.group(1) if desc else ""
        desc = (
            f"Pure cores of {pkg}, no Pekko (the actor shells are in {actor}, package"
            f" {pkg}.{SHELL_SUBPACKAGE}). Module before the split: {desc}"
        )
        with open(f"{core}/pom.xml", "w", encoding="utf-8") as fh:
            fh.write(core_pom(core, name, desc))
        git("add", f"{core}/pom.xml")
        if core not in modules:
            modules.append(core)

    files = scan(modules)
    resolve_refs(files)
    cls_module = {}
    for f in files:
        cls_module.setdefault((f.fqn, f.kind), f.module)
    artifacts = {}
    for m in modules:
        with open(f"{m}/pom.xml", encoding="utf-8") as fh:
            artifacts[m] = artifact_of_pom(fh.read())

    third_needed: set[tuple[str, str]] = set()
    computed = {}
    for m in modules:
        main_deps, test_deps, test_jars = set(), set(), set()
        third = set()
        for f in files:
            if f.module != m:
                continue
            for r in f.refs:
                dm = cls_module.get((r, "main"))
                if dm and dm != m:
                    (main_deps if f.kind == "main" else test_deps).add(dm)
                tm = cls_module.get((r, "test"))
                if f.kind == "test" and tm and tm != m and cls_module.get((r, "main")) is None:
                    test_jars.add(tm)
            if m in area_modules and f.kind == "main" and not m.endswith("-actor"):
                for _s, imp in f.imports:
                    for prefix, ga in THIRD_PARTY.items():
                        if imp.startswith(prefix + "."):
                            third.add(ga)
        computed[m] = (main_deps, test_deps, test_jars, third)

    # Compile-scope module graph after the rewrite: the computed area dependencies plus the
    # non-area mmumesh dependencies each pom already declares (not test-scoped).
    by_artifact = {a: m for m, a in artifacts.items()}
    graph = {}
    for m in modules:
        with open(f"{m}/pom.xml", encoding="utf-8") as fh:
            pom = fh.read()
        pom = re.sub(r"<dependencyManagement>.*?</dependencyManagement>", "", pom, flags=re.S)
        existing = set()
        for b in DEP_RE.findall(pom):
            a = re.search(r"<artifactId>([^<]+)</artifactId>", b).group(1)
            if f"<groupId>{GROUP}</groupId>" in b and "<scope>test</scope>" not in b and a in by_artifact:
                if by_artifact[a] not in area_modules:
                    existing.add(by_artifact[a])
        is_core = m in area_modules and not m.endswith("-actor")
        graph[m] = existing | {d for d in computed[m][0] if d in area_modules or is_core}

    def closure(m: str) -> set[str]:
        seen, todo = set(), list(graph.get(m, ()))
        while todo:
            d = todo.pop()
            if d not in seen:
                seen.add(d)
                todo.extend(graph.get(d, ()))
        return seen

    for m in modules:
        pom_path = f"{m}/pom.xml"
        with open(pom_path, encoding="utf-8") as fh:
            pom = fh.read()
        main_deps, test_deps, test_jars, third = computed[m]
        reach = closure(m)
        if m in reach:
            notes.append(f"DEPENDENCY CYCLE through {m}: fix by hand")
        # Test-only references to a module the main code reaches anyway need no test dependency
        # (declaring one would narrow the transitive compile scope to test).
        test_deps = test_deps - main_deps - reach
        is_new_core = m in area_modules and not m.endswith("-actor")
        # Remove the dependencies we recompute: the area artifacts (all of them in a new core pom).
        referenced = computed[m][0] | computed[m][1] | computed[m][2]
        core_of = {a[0]: a[1] for a in AREAS}

        def keep(block: str) -> bool:
            a = re.search(r"<artifactId>([^<]+)</artifactId>", block).group(1)
            g = re.search(r"<groupId>([^<]+)</groupId>", block).group(1)
            if g != GROUP or a not in area_modules:
                return True
            if (
                m not in area_modules
                and m not in CORES_ONLY
                and a in core_of
                and a not in referenced
                and core_of[a] not in referenced
            ):
                # A module that names nothing of the area but declared it (a classpath scan, a
                # runtime need): keep it.
                notes.append(f"{m}: kept its dependency on {a} (no class of it referenced)")
                return True
            return False

        deps_sec = re.search(r"<dependencies>\n(.*?)[ \t]*</dependencies>", re.sub(r"<dependencyManagement>.*?</dependencyManagement>", lambda x: " " * len(x.group(0)), pom, flags=re.S), re.S)
        if deps_sec is None:
            continue
        start, end = deps_sec.span(1)
        blocks = DEP_RE.findall(pom[start:end])
        kept = [b for b in blocks if keep(b)]
        present = {(re.search(r"<groupId>([^<]+)", b).group(1), re.search(r"<artifactId>([^<]+)", b).group(1)) for b in kept}
        wanted = []
        order = [x for a in AREAS for x in (a[1], a[0])]

        def rank(mod: str) -> int:
            return order.index(mod) if mod in order else -1

        new_blocks = []
        for dm in sorted(main_deps, key=rank):
            if dm in area_modules or is_new_core:
                if (GROUP, artifacts[dm]) not in present:
                    new_blocks.append(dep_xml(GROUP, artifacts[dm], None, None, True))
        for dm in sorted(test_deps, key=rank):
            if dm in area_modules or is_new_core:
                if (GROUP, artifacts[dm]) not in present:
                    new_blocks.append(dep_xml(GROUP, artifacts[dm], "test", None, True))
        for dm in sorted(test_jars, key=rank):
            if dm in area_modules:
                new_blocks.append(dep_xml(GROUP, artifacts[dm], "test", "test-jar", True))
                tj_path = f"{dm}/pom.xml"
                with open(tj_path, encoding="utf-8") as fh:
                    tj = fh.read()
                tj2 = ensure_test_jar(tj)
                if tj2 != tj:
                    with open(tj_path, "w", encoding="utf-8") as fh:
                        fh.write(tj2)
                    notes.append(f"{dm} now builds a test-jar (test helpers used by {m})")
        for ga in sorted(third):
            if ga not in present:
                new_blocks.append(
                    "    <dependency>\n"
                    f"      <groupId>{ga[0]}</groupId>\n      <artifactId>{ga[1]}</artifactId>\n"
                    "    </dependency>\n"
                )
                if ga in PARENT_MANAGED:
                    third_needed.add(ga)
        # Insert the area dependencies where the first removed one was, else after the mmumesh ones.
        section = pom[start:end]
        first_removed = next((section.find(b) for b in blocks if not keep(b)), -1)
        for b in blocks:
            if not keep(b):
                section = section.replace(b, "", 1)
        if first_removed < 0:
            last_own = max([section.find(b) + len(b) for b in kept if f"<groupId>{GROUP}</groupId>" in b] + [0])
            first_removed = last_own
        section = section[:first_removed] + "".join(new_blocks) + section[first_removed:]
        new_pom = pom[:start] + section + pom[end:]
        if new_pom != pom:
            # Re-read in case a test-jar plugin was added to this very pom above.
            with open(pom_path, encoding="utf-8") as fh:
                cur = fh.read()
            if cur != pom and "<goal>test-jar</goal>" in cur:
                new_pom = ensure_test_jar(new_pom)
            with open(pom_path, "w", encoding="utf-8") as fh:
                fh.write(new_pom)
            notes.append(f"dependencies recomputed in {pom_path}")

    # Parent: the new modules and managed versions for the cores' third-party artifacts.
    for ga in sorted(third_needed):
        if f"<artifactId>{ga[1]}</artifactId>" in parent:
            continue
        version, why = PARENT_MANAGED[ga]
        block = (
            f"      <!-- {why}. -->\n      <dependency>\n        <groupId>{ga[0]}</groupId>\n"
            f"        <artifactId>{ga[1]}</artifactId>\n        <version>{version}</version>\n      </dependency>\n"
        )
        parent = parent.replace("    </dependencies>\n  </dependencyManagement>", block + "    </dependencies>\n  </dependencyManagement>", 1)
        notes.append(f"parent manages {ga[0]}:{ga[1]}:{version}")
    with open("pom.xml", "w", encoding="utf-8") as fh:
        fh.write(parent)


def report(undecided: list[str], notes: list[str]) -> None:
    if notes:
        print("\nchanges besides moves:")
        for n in notes:
            print(f"  {n}")
    print("\nfor a human to check:" if undecided else "\nnothing undecided")
    for u in undecided:
        print(f"  {u}")


if __name__ == "__main__":
    sys.exit(main())
