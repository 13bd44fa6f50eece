# Tests for the proxy's config area.
