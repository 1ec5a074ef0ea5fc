"""The error every start-time check raises: a leaf module, so any module may import it."""


class ConfigError(Exception):
    """Misconfiguration; the message is safe to print (it never holds a secret)."""
