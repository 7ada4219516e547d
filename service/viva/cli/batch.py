"""`viva grade`, `viva calibrate`, `viva eval`."""
