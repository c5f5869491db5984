"""`python -m triage`: the same as the `triage` command."""

from triage.cli import main

if __name__ == "__main__":
    main()
