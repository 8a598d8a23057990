"""The lab's exceptions: every message is one line that says what to do."""


class LabError(Exception):
    """Base of every error the lab reports to a user (CLI prints it, the app shows it)."""


class ConfigError(LabError, ValueError, TypeError):
    """A configuration value is unknown or out of range; the message names the field."""


class DataError(LabError):
    """A data set cannot be loaded (missing files, wrong format); the message names the folder."""


class StoreError(LabError):
    """A run folder cannot be read or written (bad name, corrupt files, name taken)."""
