"""The control socket: protocol (pure), server and client."""
