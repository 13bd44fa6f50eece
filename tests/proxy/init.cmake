# Tests for the proxy's init area.
