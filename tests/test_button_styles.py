"""A button's look comes from `.button`; its variants (`button-secondary`, `button-danger`,
`button-big`) only change it. A variant alone leaves a bare browser button, too small to tap
on a phone."""

import re
from pathlib import Path

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
VARIANTS = {"button-secondary", "button-danger", "button-big"}


def test_every_button_variant_is_also_a_button():
    bare = []
    for template in TEMPLATES.rglob("*.html"):
        for value in re.findall(r'class="([^"]*)"', template.read_text()):
            names = value.split()
            has_base = any(name == "button" or name.startswith("button{") for name in names)
            if VARIANTS & set(names) and not has_base:
                bare.append((template.name, value))
    assert bare == []
