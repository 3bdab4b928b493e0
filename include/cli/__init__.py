"""The command line: the `millwright` command (`main.py`, click), the finders it shares with the
Airflow tasks (`discovery.py`), the demo (`demo.py`), and the older entry points kept as aliases:
`python -m include.cli` (validate-config, schema, quarantine: `tools.py`) and
`python -m include.cli.connections`. The top layer: it may import every other one."""
