"""The timeline view: ruler, track headers and lanes."""
