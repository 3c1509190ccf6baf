"""`python -m watcher` is the same program as the `watcher` console script."""

from watcher.cli import main

if __name__ == "__main__":
    main()
