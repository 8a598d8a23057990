"""Studies: a grid of runs defined by one file in `studies/`, resumable, summarised honestly.

`python -m lab study NAME` expands `studies/NAME.toml` into validated `RunConfig`s (data sets x
models x method variants x seeds; `spec`), trains or reuses them locally or as Ray tasks and
measures each method's own quantity (`execute`), and writes `results.csv`, `results.md`,
`report.html` and PNG figures (`summary`, `outputs`); `cli` is the command.
"""
from lab.study.execute import run_study
from lab.study.spec import Study, Variant, available, expand, label, load_study, parse_study

__all__ = ["Study", "Variant", "available", "expand", "label", "load_study", "parse_study", "run_study"]
