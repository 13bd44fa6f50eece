# Tests for the proxy's core area.
