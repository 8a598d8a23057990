"""Regularizers from outside the lab, registered like the built-ins (README, "Your own regularizer").

Three ways in, all named by the person who runs the lab (plug-in code runs with their rights;
nothing that comes through the browser is ever imported):
- a spec `path/to/file.py:ClassName` (or `package.module:ClassName`) wherever a method is named;
- an installed package's entry point in the group `reglab.regularizers` (`name = "pkg.mod:Class"`);
- in the app, the files named by `REGLAB_PLUGINS` (paths, `:`-separated) and every `*.py` in a
  `plugins/` folder beside the runs (`discover`).

A plug-in is checked before anything is trained: its file must import, the class must subclass
`Regularizer` and declare a `name` (lower case, not a built-in's) and a `summary`; its first
penalty is checked on one batch (`check_terms`). Every refusal is one `PluginError` line naming
the file and what to do. The class keeps its `Source` (file, class, SHA-256 of the file), which
a run's config.json records as `plugin`, so a run whose file went missing or changed says so.
"""
from __future__ import annotations

import hashlib
import importlib
import importlib.metadata
import importlib.util
import inspect
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

from torch import Tensor

from lab.declare import Quantity, View
from lab.errors import ConfigError
from lab.params import Param, check_name
from lab.regularizers.base import REGISTRY, Regularizer

GROUP = "reglab.regularizers"  # the entry-point group of installed plug-ins
NAME = re.compile(r"[a-z][a-z0-9_]{0,39}")
BUILT_IN = frozenset(REGISTRY)  # filled: this module is imported after every built-in module


class PluginError(ConfigError):
    """A plug-in that cannot be used: one line naming its file and what to do."""


@dataclass(frozen=True)
class Source:
    """Where a plug-in class came from: its `file`, `cls` name and the file's `sha256`."""

    file: str
    cls: str
    sha256: str

    def to_dict(self, name: str) -> dict[str, str]:
        """The `plugin` record of a run's config.json."""
        return {"name": name, "file": self.file, "class": self.cls, "sha256": self.sha256}


def file_hash(path: str | Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _import_file(path: Path) -> Any:
    """The module of the file at `path`, executed under a name of its own (syntax and import errors
    become one PluginError line; what the file registers itself is left to `_checked`)."""
    if not path.is_file():
        raise PluginError(f"Plug-in file {path} not found; give the path to a .py file, e.g. --method my_reg.py:MyReg.")
    digest = file_hash(path)
    stem = re.sub(r"\W", "_", path.stem)
    name = f"reglab_plugin_{stem}_{digest[:12]}"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    before = dict(REGISTRY)
    try:
        spec.loader.exec_module(module)
    except SyntaxError as e:
        sys.modules.pop(name, None)
        raise PluginError(f"Plug-in {path}, line {e.lineno}: syntax error ({e.msg}); fix the file and try again.") from None
    except Exception as e:
        sys.modules.pop(name, None)
        raise PluginError(f"Plug-in {path} failed to import: {type(e).__name__}: {e}; fix the file and try again.") from None
    finally:
        REGISTRY.clear()
        REGISTRY.update(before)  # a file's own @register calls do not count: `_checked` registers
    return module


def _regularizer_classes(module: Any) -> list[str]:
    return [n for n, v in vars(module).items()
            if inspect.isclass(v) and issubclass(v, Regularizer) and v is not Regularizer and v.__module__ == module.__name__]


def _checked(cls: Any, where: str, source: Source) -> type[Regularizer]:
    """`cls` registered under its name with its `source`, after checking what it declares."""
    if not (inspect.isclass(cls) and issubclass(cls, Regularizer)):
        raise PluginError(f"Plug-in {where}: {source.cls} is not a lab.regularizers.Regularizer subclass; subclass it "
                          f"(README, \"Your own regularizer\").")
    name = getattr(cls, "name", None)
    if not isinstance(name, str) or not NAME.fullmatch(name):
        raise PluginError(f"Plug-in {where}: {source.cls}.name must be a short lower-case name (letters, digits, _; "
                          f"e.g. name = \"decov_mine\"); got {name!r}.")
    if name in BUILT_IN:
        raise PluginError(f"Plug-in {where}: the name {name!r} is a built-in method's; give {source.cls} another `name`.")
    if not isinstance(getattr(cls, "summary", None), str) or not cls.summary.strip():
        raise PluginError(f"Plug-in {where}: {source.cls} must set `summary`, one sentence saying what it does.")
    _check_declarations(cls, where)
    other = REGISTRY.get(name)
    if other is not None and other.source is not None and other.source.file != source.file:
        raise PluginError(f"Plug-in {where}: the name {name!r} is already taken by the plug-in {other.source.file}; "
                          f"rename one of them.")
    cls.source = source
    REGISTRY[name] = cls  # the same file again (edited in a running app) replaces its earlier class
    return cls


def _lab_keys(module: str, name: str, keys: Iterable[Any]) -> set[str]:
    """The keys among `keys` that the lab's `module.name` dict lacks (imported only when asked)."""
    wanted = {k for k in keys if isinstance(k, str)}
    return wanted - set(getattr(importlib.import_module(module), name)) if wanted else set()


def _check_declarations(cls: type[Regularizer], where: str) -> None:
    """The optional declarations have the types the lab reads, as a built-in's may (one line each
    when not): a view or a quantity's measurement may also name one of the lab's."""
    q = cls.quantity
    bad = [what for what, ok in (
        ("params must be a tuple of lab.params.Param", isinstance(cls.params, tuple)
         and all(isinstance(p, Param) for p in cls.params)),
        ("default_lam must be a number >= 0", isinstance(cls.default_lam, (int, float)) and cls.default_lam >= 0),
        ("quantity must be a lab.declare.Quantity or None", q is None or isinstance(q, Quantity)),
        ("quantity's measurement must be a function of a snapshot or a key of lab.measure.quantities.MEASUREMENTS,"
         " and its working 'lower' or 'higher'", not isinstance(q, Quantity) or (
             q.working in ("lower", "higher") and (callable(q.measurement) or isinstance(q.measurement, str)
                                                  and not _lab_keys("lab.measure.quantities", "MEASUREMENTS",
                                                                    [q.measurement])))),
        ("views must be a tuple of lab.declare.View or keys of lab.views.VIEWS", isinstance(cls.views, tuple)
         and all(isinstance(v, (View, str)) for v in cls.views) and not _lab_keys("lab.views", "VIEWS", cls.views)),
        ("notes must be a dict {page or view key: text}", isinstance(cls.notes, dict)),
        ("needs must name known capabilities", set(cls.needs) <= {"second_batch", "balanced_batches"}),
    ) if not ok]
    if bad:
        raise PluginError(f"Plug-in {where}: {cls.__name__}.{bad[0]}; see README, \"Your own regularizer\".")


def load(spec: str) -> type[Regularizer]:
    """The class named by `spec` = "path/to/file.py:Class" or "package.module:Class", registered."""
    target, _, cls_name = spec.rpartition(":")
    if not target or not cls_name:
        raise PluginError(f"A plug-in is named as FILE.py:CLASS or package.module:CLASS; got {spec!r}.")
    if target.endswith(".py") or os.sep in target or "/" in target:
        path = Path(target).expanduser().resolve()
        module, file, where = _import_file(path), str(path), str(path)
    else:
        try:
            module = importlib.import_module(target)
        except Exception as e:
            raise PluginError(f"Plug-in module {target} failed to import: {type(e).__name__}: {e}.") from None
        file, where = inspect.getfile(module), target
    if not hasattr(module, cls_name):
        have = ", ".join(_regularizer_classes(module)) or "none"
        raise PluginError(f"Plug-in {where} has no class {cls_name}; its Regularizer classes: {have}.")
    source = Source(file, cls_name, file_hash(file))
    name = getattr(getattr(module, cls_name), "name", None)
    registered = REGISTRY.get(name) if isinstance(name, str) else None
    if registered is not None and registered.source == source:
        return registered
    return _checked(getattr(module, cls_name), where, source)


def entry_points() -> dict[str, importlib.metadata.EntryPoint]:
    """The installed entry points of the group `reglab.regularizers`, by name."""
    return {ep.name: ep for ep in importlib.metadata.entry_points(group=GROUP)}


def resolve(spec: str) -> type[Regularizer]:
    """The regularizer named by `spec`: a registered name, a plug-in spec (FILE.py:CLASS,
    package.module:CLASS) or an installed entry point's name; ConfigError lists the known names."""
    if spec in REGISTRY:
        return REGISTRY[spec]
    if isinstance(spec, str) and ":" in spec:
        return load(spec)
    ep = entry_points().get(spec) if isinstance(spec, str) else None
    if ep is not None:
        return load(ep.value)
    return REGISTRY[check_name("method", spec, [*REGISTRY, *entry_points()])]


def discover(paths: Iterable[str | Path]) -> tuple[list[str], list[str]]:
    """Load every plug-in class of the given files or folders (a folder: its *.py files) and of the
    installed entry points: (names loaded, one error line per file that was refused)."""
    files = [f for p in map(Path, paths) for f in (sorted(p.glob("*.py")) if p.is_dir() else [p])]
    names, errors = [], []
    for spec in (ep.value for ep in entry_points().values()):
        try:
            names.append(load(spec).name)
        except ConfigError as e:
            errors.append(str(e))
    for f in files:
        try:
            classes = _regularizer_classes(_import_file(f.resolve()))
            if not classes:
                raise PluginError(f"Plug-in {f.resolve()} defines no Regularizer subclass; subclass "
                                  f"lab.regularizers.Regularizer (README, \"Your own regularizer\").")
            names += [load(f"{f.resolve()}:{c}").name for c in classes]
        except ConfigError as e:
            errors.append(str(e))
    return list(dict.fromkeys(names)), errors


def app_plugin_paths(runs: Path) -> list[Path]:
    """What the app loads: the paths of `REGLAB_PLUGINS` (`:`-separated), then `plugins/` beside the runs."""
    named = [Path(p) for p in os.environ.get("REGLAB_PLUGINS", "").split(os.pathsep) if p]
    folder = Path(runs).resolve().parent / "plugins"
    return named + ([folder] if folder.is_dir() else [])


def for_run(plugin: dict[str, str] | None, method: str) -> tuple[type[Regularizer] | None, str | None]:
    """(class, None) for the method a run's config names, loading its plug-in from the recorded file;
    (None, one line saying what to do) when that file is missing or changed since the run."""
    if not plugin:
        return REGISTRY.get(method), None
    file = plugin["file"]
    what = f"The method {method} of this run comes from the plug-in {file}"
    if not Path(file).is_file():
        return None, f"{what}, which is missing; restore the file to re-run the run or measure its own quantity."
    if file_hash(file) != plugin["sha256"]:
        return None, (f"{what}, which changed since the run; restore that version to re-run it or measure its own "
                      f"quantity, or train a new run with the file as it is.")
    try:
        return load(f"{file}:{plugin['class']}"), None
    except ConfigError as e:
        return None, str(e)


def for_config(method: str, plugin: dict[str, str] | None) -> type[Regularizer]:
    """The class a run configuration names: `method` resolved (a name or a plug-in spec), or, for a
    saved plug-in run, its recorded file, which must be unchanged (PluginError in one line if not)."""
    if not plugin:
        return resolve(method)
    cls, problem = for_run(plugin, method)
    if problem:
        raise PluginError(problem)
    return cls


def check_terms(terms: Any, reg: Regularizer) -> None:
    """A penalty's result must be {name: scalar tensor}; one PluginError line naming the file if not."""
    where = f"Plug-in {reg.source.file}: {type(reg).__name__}.penalty" if reg.source else f"{reg.name}.penalty"
    if not isinstance(terms, dict):
        raise PluginError(f"{where} must return a dict {{term name: scalar tensor}}; it returned a "
                          f"{type(terms).__name__}.")
    for k, v in terms.items():
        if not isinstance(v, Tensor):
            raise PluginError(f"{where} must return scalar tensors; term {k!r} is a {type(v).__name__} "
                              f"(build it with torch operations on ctx's tensors).")
        if v.dim() != 0:
            raise PluginError(f"{where} must return scalar tensors; term {k!r} has shape {tuple(v.shape)} "
                              f"(reduce it, e.g. with .mean()).")
