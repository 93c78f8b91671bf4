"""The offload evaluation tool (docs/evaluation.md): scenarios in TOML, runs,
sweeps, results, comparisons and reports. The command is
`python -m veridian` (run, sweep, report, compare, and the other tools)."""
from .scenario import Scenario, ScenarioError, load, parse
from .runner import SCHEMA, run

__all__ = ["Scenario", "ScenarioError", "load", "parse", "run", "SCHEMA"]
