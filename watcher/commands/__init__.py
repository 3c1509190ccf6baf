"""The commands of the command line, one module per concern; `watcher.cli` gathers them."""
