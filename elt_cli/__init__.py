"""The `elt` command. It uses every layer (sources, transforms, checks, flows), so it sits above them all."""
