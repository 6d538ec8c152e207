"""Every trámite's actions, imported so that rasa-sdk (which registers what is imported) serves them.

rasa-sdk imports every module of `bot.actions` at start; this one brings in the trámites' packages.
"""

from bot.tramites import registry

registry.import_actions()
