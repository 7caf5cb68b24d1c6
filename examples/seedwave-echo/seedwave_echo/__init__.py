"""An example Seedwave plugin: one effect (:mod:`.effect`) and one panel (:mod:`.panel`).

See docs/PLUGINS.md in the Seedwave repository for the walk-through.
"""
