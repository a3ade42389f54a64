"""Fleet watch: what a sweep found, which alerts it raises or clears (pure), and their text."""
