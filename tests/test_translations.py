"""Every UI string is in the Dutch catalog and translated, with the same placeholders."""

import re
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]")


def extracted_ids() -> set[str]:
    with open(ROOT / "babel.cfg") as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)
    keywords = {"_": None, "gettext": None, "ngettext": (1, 2), "_l": None, "lazy_gettext": None}
    return {
        message if isinstance(message, str) else message[0]
        for _file, _line, message, _comments, _context in extract_from_dir(
            ROOT, method_map, options_map, keywords=keywords
        )
    }


def dutch_catalog():
    with open(ROOT / "cooperative/translations/nl/LC_MESSAGES/messages.po", "rb") as po:
        return read_po(po)


def test_every_ui_string_has_a_dutch_translation():
    catalog = dutch_catalog()
    missing = sorted(i for i in extracted_ids() if not (catalog.get(i) and catalog.get(i).string))
    assert missing == [], "run `make messages` and translate these in nl/messages.po"


def test_dutch_translations_keep_their_placeholders():
    for message in dutch_catalog():
        if not (message.id and message.string):
            continue
        # A plural entry has (singular, plural) ids and one translation per Dutch form.
        source = message.id[-1] if isinstance(message.id, tuple) else message.id
        forms = message.string if isinstance(message.string, tuple) else (message.string,)
        for form in forms:
            assert sorted(PLACEHOLDER.findall(source)) == sorted(PLACEHOLDER.findall(form)), (
                message.id
            )
        assert not message.fuzzy, message.id
