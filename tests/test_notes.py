"""Teaching notes and method declarations: a method is declared in its module and its notes
table, nowhere else; every note names a real method and a real view."""
import ast
import tomllib
from pathlib import Path

import ui.nav
from lab.notes import ASSETS, note, notes
from lab.regularizers import REGISTRY

ROOT = Path(__file__).resolve().parents[1]


def test_every_notes_table_is_a_method_or_the_default_and_every_key_a_view():
    """Keys: the app's pages (`ui.nav.PAGES`, declared once) and the views methods declare."""
    doc = tomllib.loads((ASSETS / "notes.toml").read_text())
    views = {*ui.nav.PAGES, *(v if isinstance(v, str) else v.key for reg in REGISTRY.values() for v in reg.views)}
    assert set(doc) - {"default"} <= set(REGISTRY)
    assert all(set(shown) <= views for m, shown in doc.items() if m != "default")
    assert set(doc["default"]) - {"any"} <= views and {"train", "any", "geometry"} <= set(doc["default"])


def test_a_method_gets_its_own_note_else_the_view_default_else_the_general_one():
    assert note("mhe", "hypersphere") == notes()["mhe"]["hypersphere"]
    assert note("gini", "train") == notes()["default"]["train"]
    assert note("dropout", "similarity") == notes()["default"]["any"].replace("{method}", "dropout")
    assert "{method}" not in note("gini", "hypersphere") and "**gini**" in note("gini", "hypersphere")


def test_every_method_declares_its_summary_quantity_and_goal_in_its_class():
    for name, reg in REGISTRY.items():
        assert reg.summary and reg.name == name
        assert reg.quantity is None or reg.quantity.key and "(" in reg.quantity.label
        assert reg.step_goal is None or reg.step_goal >= 1


def test_no_module_outside_the_regularizers_keys_a_dict_by_method_names():
    """Adding a method is its module plus its notes table: no other Python file holds a table
    keyed by method names (the bench's goals, the study's columns and the pages read the declarations)."""
    methods = set(REGISTRY)
    offenders = []
    for path in [*ROOT.glob("lab/**/*.py"), *ROOT.glob("ui/**/*.py"), *ROOT.glob("pages/*.py"), ROOT / "app.py",
                 *ROOT.glob("bench/*.py")]:
        if "regularizers" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Dict):
                keys = {k.value for k in node.keys if isinstance(k, ast.Constant) and isinstance(k.value, str)}
                if len(keys & methods) >= 2:
                    offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert offenders == []


def test_the_in_this_run_line_reads_the_first_and_last_finite_values_of_the_series():
    from lab.notes import in_this_run

    nan = float("nan")
    assert in_this_run("angle", [0, 1, 2, 3], [1.3792, nan, 1.1205, nan], radians=True) == \
        "In this run the angle fell from 79.0° (epoch 0) to 64.2° (epoch 2)."
    assert in_this_run("cosine", [0, 5], [0.05, 0.7]) == "In this run the cosine rose from 0.05 (epoch 0) to 0.7 (epoch 5)."
    assert in_this_run("cosine", [0, 5], [0.70001, 0.70002]) == "In this run the cosine stayed at 0.7 from epoch 0 to epoch 5."
    assert in_this_run("cosine", [0], [nan]) == "In this run the cosine has no finite value to show."
