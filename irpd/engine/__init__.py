"""The daemon's engine: carries out the state machines' decisions against Moody's and the DB."""
