"""Sphinx extension for the offline book: drop duplicated <script> entries.

Jupyter Book 1.x registers sphinx-thebe's inline configuration twice, which makes browsers log
"Identifier 'THEBE_JS_URL' has already been declared" on every page.
"""


def _dedupe_scripts(app, pagename, templatename, context, doctree):
    scripts = context.get("script_files")
    if not scripts:
        return
    seen, unique = set(), []
    for s in scripts:
        key = (str(getattr(s, "filename", s) or ""), getattr(s, "attributes", {}).get("body", ""))
        if key in seen:
            continue
        seen.add(key)
        unique.append(s)
    context["script_files"] = unique


def setup(app):
    app.connect("html-page-context", _dedupe_scripts, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
