"""Core of the ELT toolkit: project config, targets, publishing, errors and the `elt` CLI."""
