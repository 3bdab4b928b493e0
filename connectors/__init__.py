"""Source-system connectors: one folder per system (client, mapping, sandbox, tests).

`connectors.registry.get_connector(system)` finds a system's connector class by its folder name.
"""
