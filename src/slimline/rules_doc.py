"""docs/rules.md, written from the rules themselves: grouped by practice, one section a rule."""

from __future__ import annotations

from slimline.findings import Practice, RuleInfo

_PRACTICE_TEXT = {
    Practice.SECURITY: "root user, secrets in ENV/ARG/layers, `ADD` of URLs without checksum, `curl | sh`, TLS bypass",
    Practice.BASE_IMAGE: "small, official parent images; a slimmer variant of the same image exists",
    Practice.PINNING: "a specific version: no `latest`, no missing tag; digests and packages pinned where asked",
    Practice.PACKAGE_CACHE: "no package-manager caches or indexes left in a layer",
    Practice.INSTALL_SCOPE: "install only what runtime needs: no recommends, no devDependencies, no docs",
    Practice.BUILD_TOOLS: "compilers, headers, VCS and build systems only in build stages",
    Practice.LAYER_WASTE: "bytes added in one layer and deleted or overwritten in a later one",
    Practice.DATA_STORAGE: "no state stored in the image: data directories declared as volumes",
    Practice.MODULAR_DESIGN: "one concern per image: no several services or a process supervisor",
    Practice.ATTACK_SURFACE: "shells, package managers, setuid files, tools not needed at runtime",
}


def rules_markdown(rules: dict[str, RuleInfo]) -> str:
    lines = [
        "# slimline rules",
        "",
        "Generated from the rules' own documentation (`scripts/gen-docs`); `slimline explain ID`",
        "prints the same text. Opt-in rules run only when selected (`--select`, `select = [...]`).",
        "",
        "| id | name | practice | severity | equivalents |",
        "|---|---|---|---|---|",
    ]
    ordered = sorted(rules.values(), key=lambda r: r.id)
    for info in ordered:
        name = info.name + ("" if info.default_enabled else " (opt-in)")
        refs = ", ".join(info.refs) or "-"
        lines.append(
            f"| [{info.id}](#{info.id.lower()}) | {name} | {info.practice.value} | {info.severity.value} | {refs} |"
        )
    for practice in Practice:
        members = [r for r in ordered if r.practice is practice]
        if not members:
            continue
        lines += ["", f"## {practice.value}", "", _PRACTICE_TEXT[practice] + "."]
        for info in members:
            lines += ["", f"### {info.id}", "", f"**{info.name}** · {info.severity.value}"]
            if not info.default_enabled:
                lines[-1] += " · opt-in"
            if info.refs:
                lines[-1] += f" · equivalents: {', '.join(info.refs)}"
            lines += ["", info.doc]
    return "\n".join(lines) + "\n"
