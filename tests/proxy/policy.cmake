# Tests for the proxy's policy area.
