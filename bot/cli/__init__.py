"""The `chasqui` command: run the product, chat from a terminal, train, report, administer."""
